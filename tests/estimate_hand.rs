//! `estimate` on a hand-computed case: 3 prompts on gpt-4o-mini ($0.15 / M input, $0.60 / M
//! output; batch half), sequential, packed:2 and batch-api, every token and nano-dollar by hand.

mod estimate_common;

use std::io::Write;

use batchbench::cli::Format;
use batchbench::estimate::{self, EstimateReport, OutputTokens};
use batchbench::pricing::Nanodollars;
use batchbench::provider::ProviderKind;
use batchbench::strategy::StrategySpec;
use estimate_common::input;

fn dataset(dir: &tempfile::TempDir) -> std::path::PathBuf {
    let path = dir.path().join("three.jsonl");
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, r#"{{"instructions": "Answer with a number."}}"#).unwrap();
    for i in 1..=3 {
        writeln!(
            f,
            r#"{{"id": "q{i}", "prompt": "What is {i} + {i}?", "answer": "{}"}}"#,
            2 * i
        )
        .unwrap();
    }
    path
}

fn run3() -> EstimateReport {
    let dir = tempfile::tempdir().unwrap();
    let path = dataset(&dir);
    let strategies = [
        StrategySpec::Sequential,
        StrategySpec::Packed(2),
        StrategySpec::BatchApi(None),
    ];
    estimate::estimate(&input(
        &path,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &strategies,
        5,
    ))
    .unwrap()
}

#[test]
fn three_prompts_by_hand() {
    let r = run3();
    assert_eq!(r.prompts, 3);
    let rows = &r.models[0].strategies;

    // o200k_base: "Answer with a number." = 5 tokens; "What is 1 + 1?" = 8 ("What", " is", " ",
    // "1", " +", " ", "1", "?"), the same for 2 and 3.
    // sequential: 3 (reply priming) + system (3 + 1 + 5) + user (3 + 1 + 8) = 24 input tokens per
    // request; 5 output. 24 * 150 + 5 * 600 = 6,600 nano-dollars per request.
    let seq = &rows[0];
    assert_eq!(seq.strategy, "sequential");
    assert_eq!(
        (
            seq.requests,
            seq.input_tokens,
            seq.cached_tokens,
            seq.output_tokens
        ),
        (3, 72, 0, 15)
    );
    assert_eq!(seq.cost_usd, Nanodollars(19_800));
    assert_eq!(seq.cost_per_1k_prompts_usd, Nanodollars(6_600_000));
    assert_eq!(seq.per_day_usd, Nanodollars(6_600_000_000)); // $6.60 for 1,000,000 prompts
    assert_eq!(seq.per_month_usd, Nanodollars(198_000_000_000));

    // packed:2. Request 1 (q1, q2): the packed user message is 78 tokens and the JSON schema
    // {"additionalProperties":false,"properties":{"q1":…,"q2":…},…} 37, so 3 + 9 + (3 + 1 + 78)
    // + 37 = 131 input; output 2 x 5 answers + 2 + 2 x (tokens("q1") = 2, + 6) = 28.
    // 131 * 150 + 28 * 600 = 19,650 + 16,800 = 36,450.
    // Request 2 (q3): user message 60, schema 26: 3 + 9 + 64 + 26 = 102 input; output 5 + 2 + 8
    // = 15. 102 * 150 + 15 * 600 = 15,300 + 9,000 = 24,300. Total 60,750: dearer than
    // sequential on prompts this short, because the packing header outweighs the instructions.
    let packed = &rows[1];
    assert_eq!(packed.strategy, "packed:2");
    assert_eq!(
        (packed.requests, packed.input_tokens, packed.output_tokens),
        (2, 233, 43)
    );
    assert_eq!(packed.cost_usd, Nanodollars(60_750));
    assert_eq!(packed.prompts_per_request, 2);
    let saving = packed.saving_vs_sequential_pct.unwrap();
    assert!((saving - (1.0 - 60_750.0 / 19_800.0) * 100.0).abs() < 1e-9);

    // batch-api: the sequential requests at half price: 24 * 75 + 5 * 300 = 3,300 each.
    let batch = &rows[2];
    assert_eq!(
        (batch.requests, batch.input_tokens, batch.output_tokens),
        (3, 72, 15)
    );
    assert!(batch.batch_priced);
    assert_eq!(batch.cost_usd, Nanodollars(9_900));
    assert_eq!(batch.saving_vs_sequential_pct, Some(50.0));
}

#[test]
fn the_planners_agree_with_the_hand_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let path = dataset(&dir);
    let e = estimate_common::expected(
        &path,
        "gpt-4o-mini",
        ProviderKind::Openai,
        StrategySpec::Packed(2),
        5,
    );
    assert_eq!(
        (e.requests, e.input, e.output, e.cost),
        (2, 233, 43, Nanodollars(60_750))
    );
}

#[test]
fn formats_render() {
    let r = run3();
    let table = estimate::render(&r, Format::Table).unwrap();
    assert!(
        table.contains("gpt-4o-mini (openai, o200k_base, exact token counts)"),
        "{table}"
    );
    assert!(table.contains("packed:2"));
    assert!(table.contains("Assumptions"));
    assert!(
        table.contains("5 per answer") || table.contains("Output tokens: 5 per answer"),
        "{table}"
    );
    let md = estimate::render(&r, Format::Md).unwrap();
    assert!(md.contains("| strategy | requests |"), "{md}");
    assert!(md.contains("|---|---:|"));
    let json: serde_json::Value =
        serde_json::from_str(&estimate::render(&r, Format::Json).unwrap()).unwrap();
    assert_eq!(json["schema_version"], 1);
    assert_eq!(
        json["models"][0]["strategies"][0]["cost_usd"],
        "0.000019800"
    );
    assert_eq!(json["models"][0]["strategies"][1]["input_tokens"], 233);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.jsonl");
    let e = estimate::estimate(&input(
        &missing,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &[StrategySpec::Sequential],
        5,
    ))
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(e.to_string().contains("cannot read dataset"), "{e}");

    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"id\":\"a\",\"prompt\":\"p\"}\n{\"id\":\"b\"}\n").unwrap();
    let e = estimate::estimate(&input(
        &bad,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &[StrategySpec::Sequential],
        5,
    ))
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert!(
        e.to_string().ends_with(":2: missing field \"prompt\""),
        "{e}"
    );
    assert!(!e.to_string().contains('\n'));

    let empty = dir.path().join("empty.jsonl");
    std::fs::write(&empty, "{\"instructions\":\"x\"}\n").unwrap();
    let e = estimate::estimate(&input(
        &empty,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &[StrategySpec::Sequential],
        5,
    ))
    .unwrap_err();
    assert!(e.to_string().contains("holds no prompts"), "{e}");

    let ok = dataset(&dir);
    let e = estimate::estimate(&input(
        &ok,
        "my-private-model",
        ProviderKind::Openai,
        &[StrategySpec::Sequential],
        5,
    ))
    .unwrap_err();
    assert_eq!(e.exit_code(), 2);

    let mut i = input(
        &ok,
        "gpt-4o-mini",
        ProviderKind::Openai,
        &[StrategySpec::Sequential],
        5,
    );
    i.output = OutputTokens::PerAnswer(5);
    i.models.clear();
    assert_eq!(estimate::estimate(&i).unwrap_err().exit_code(), 2);
}

#[test]
fn args_parse_and_default_strategies() {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: batchbench::cli::EstimateArgs,
    }
    let cli = Cli::try_parse_from([
        "x",
        "--model",
        "gpt-4o-mini,claude-haiku-4-5",
        "--sizes",
        "2,4",
        "--output-tokens",
        "7",
    ])
    .unwrap();
    let input = cli.args.to_input().unwrap();
    assert_eq!(input.models[1].1, ProviderKind::Anthropic);
    let names: Vec<String> = input.strategies.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        names,
        [
            "sequential",
            "concurrent:8",
            "packed:2",
            "packed:4",
            "cached",
            "batch-api",
            "batch-api+packed:2",
            "batch-api+packed:4"
        ]
    );
    assert!(Cli::try_parse_from(["x", "--output-tokens", "7", "--from-run", "d"]).is_err());
    let cli = Cli::try_parse_from(["x", "--sizes", "0"]).unwrap();
    assert_eq!(cli.args.to_input().unwrap_err().exit_code(), 2);
    let cli = Cli::try_parse_from(["x", "--from-run", "/nonexistent"]).unwrap();
    let e = cli.args.to_input().unwrap_err();
    assert!(e.to_string().contains("prompts.csv"), "{e}");
}
