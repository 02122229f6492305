//! `concurrent:C`: one request per prompt, C in flight. Same price as sequential, less wall time.

use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, unpack_single,
};
use crate::error::Result;
use crate::provider::ChatResponse;

/// Parallel single requests.
#[derive(Debug, Clone, Copy)]
pub struct Concurrent {
    /// Requests in flight.
    pub concurrency: usize,
}

impl Strategy for Concurrent {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Concurrent(self.concurrency)
    }

    fn execution(&self) -> Execution {
        Execution::Sync {
            concurrency: self.concurrency,
        }
    }

    fn plan(&self, ctx: &PlanContext<'_>) -> Result<Plan> {
        let requests = ctx.planned_singles(false);
        Ok(Plan {
            requests,
            warnings: Vec::new(),
        })
    }

    fn unpack(&self, request: &PlannedRequest, response: &ChatResponse) -> Unpacked {
        unpack_single(request, response)
    }
}
