//! `sequential`: one request per prompt, one at a time. The baseline every saving is measured against.

use super::{
    Execution, Plan, PlanContext, PlannedRequest, Strategy, StrategySpec, Unpacked, unpack_single,
};
use crate::error::Result;
use crate::provider::ChatResponse;

/// The baseline.
#[derive(Debug, Clone, Copy)]
pub struct Sequential;

impl Strategy for Sequential {
    fn spec(&self) -> StrategySpec {
        StrategySpec::Sequential
    }

    fn execution(&self) -> Execution {
        Execution::Sync { concurrency: 1 }
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
