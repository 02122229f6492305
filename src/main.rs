//! The `batchbench` binary: parse the command line, run the command, print one line per error.

use clap::Parser;

use batchbench::app;
use batchbench::cli::{Cli, Command};
use batchbench::error::{EXIT_USAGE, Error};

fn main() {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            std::process::exit(EXIT_USAGE);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            // On a worker thread rather than this one: every answer wakes the task that sends
            // the next request, and waking the thread that called `block_on` takes a system
            // call each time, where a worker picks the task up itself.
            Command::Run(args) => {
                let args = args.clone();
                match tokio::spawn(async move { app::run(&args).await }).await {
                    Ok(result) => result,
                    Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                    Err(e) => Err(Error::Internal(format!("the run was cancelled: {e}"))),
                }
            }
            Command::Prices(args) => app::prices(args),
            Command::Gen(args) => app::gen_command(args),
            Command::Mock(args) => app::mock_command(args).await,
            Command::Sweep(args) => app::sweep_command(args).await,
            Command::Estimate(args) => batchbench::estimate::run(args),
            Command::Compare(args) => app::compare_command(args),
            Command::Merge(args) => app::merge_command(args),
            Command::History(args) => batchbench::history::command(args),
        }
    });
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(e.exit_code());
        }
    }
}
