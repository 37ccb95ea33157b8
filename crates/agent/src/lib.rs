//! Capability evaluations, the other half of a preparedness scorecard: can an agent built on the
//! model solve capture-the-flag and autonomy tasks, and does it know what separates novices from
//! experts.
//!
//! - [`task`]: the task format (`docs/tasks.md`): `task.toml`, `files/`, `private/`, `check/`;
//!   loading with `file:line: field` errors.
//! - [`agent`]: one attempt at one task: a fresh [`preflight_sandbox::Sandbox`], setup and services,
//!   the tool loop over a [`preflight_core::Generate`] handle (native tool calls, or a text
//!   protocol for models without them), limits on steps, tokens and wall time, then the check.
//! - [`tools`]: the agent's tools (`bash`, `python`, `read_file`, `write_file`, `submit`), run
//!   inside the sandbox only.
//! - [`knowledge`]: multiple-choice knowledge probes (`tasks/knowledge/*.jsonl`).
//!
//! An attempt the harness or the provider spoiled is [`Verdict::Unassessable`], never "not
//! capable".

pub mod agent;
pub mod knowledge;
pub mod task;
pub mod text;
pub mod tools;

pub use agent::{AgentLimits, Attempt, Step, Verdict, attempt};
pub use knowledge::{Question, ask, load_questions};
pub use preflight_sandbox::{Limits, available as sandbox_available};
pub use task::{Check, Task, TaskError, load_suite};
