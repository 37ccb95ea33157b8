//! The batch seam: a provider's batch API (OpenAI Batch, Anthropic Message Batches) as four
//! calls. The runner's batcher gathers requests into chunks, journals each chunk before and
//! after submitting it, and polls; a provider implements only the wire format.

use crate::{BoxFuture, GenerateRequest, GenerateResponse, ProviderError};

/// One request of a chunk. `custom_id` is the request's cache key (64 lower-case hex
/// characters, valid as either API's custom id): unique within a chunk, and the same request
/// always has the same one, so a result finds its request after a restart.
#[derive(Debug, Clone)]
pub struct BatchItem {
    pub custom_id: String,
    pub request: GenerateRequest,
}

/// Where a submitted batch stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchStatus {
    /// Validating, queued or running: poll again later.
    Running,
    /// Finished (completed, expired or cancelled): its results can be read; requests it did not
    /// finish come back as per-request errors.
    Ended,
    /// The batch as a whole was refused (e.g. failed validation): none of its requests ran. The
    /// error says why and whether sending them again can help.
    Failed(ProviderError),
}

/// One request's result inside an ended batch: its answer, or the error the API gave for it
/// (classified like the same error from the synchronous API; an expired or cancelled request
/// is transient, so it is sent again in a later chunk).
pub type BatchResult = (String, Result<GenerateResponse, ProviderError>);

/// A provider's batch API.
pub trait BatchApi: Send + Sync {
    /// The model the batches go to, e.g. `openai/gpt-4o-mini` (as [`crate::Generate::model_id`]).
    fn model_id(&self) -> &str;

    /// Submits `items` as one batch tagged with `chunk_id` (where the API keeps metadata, so
    /// [`BatchApi::find`] can recognise it) and returns the provider's batch id.
    fn submit<'a>(&'a self, chunk_id: &'a str, items: &'a [BatchItem]) -> BoxFuture<'a, Result<String, ProviderError>>;

    /// The batch's status.
    fn poll<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<BatchStatus, ProviderError>>;

    /// Every result of an ended batch, by custom id. A request without a result line is
    /// missing from the answer, and the caller treats it as a transient error.
    fn results<'a>(&'a self, batch_id: &'a str) -> BoxFuture<'a, Result<Vec<BatchResult>, ProviderError>>;

    /// The batch a crashed process may have submitted for `chunk_id` (`requests` requests, not
    /// before `since_ms`, milliseconds since the Unix epoch) without living to record its id:
    /// `Some(id)` when the API shows it, `None` when it shows no such batch (the chunk never
    /// arrived and may be sent).
    fn find<'a>(
        &'a self,
        chunk_id: &'a str,
        requests: usize,
        since_ms: u64,
    ) -> BoxFuture<'a, Result<Option<String>, ProviderError>>;
}
