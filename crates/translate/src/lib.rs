//! Pure translation between the Responses API and Chat Completions. No I/O: requests,
//! whole responses and a streaming state machine, tested by golden fixtures and properties.

pub mod compaction;
mod compaction_item;
pub mod completion;
pub mod context;
pub mod dialect;
pub mod errors;
pub mod files;
pub mod provenance;
pub mod reasoning_blob;
pub mod relay_watch;
pub mod request;
pub mod responses_dialect;
pub mod responses_repair;
pub mod schema;
pub mod sse;
pub mod stream;
pub mod terminal;
pub mod text_tool_calls;
pub mod think_tags;
pub mod tool_names;
pub mod tool_search;

pub use completion::{completion_to_chunk, completion_to_response};
pub use context::{new_id, unix_now, ResponseContext};
pub use dialect::{Dialect, MaxTokensField, ReasoningSwitch};
pub use request::{translate_request, TranslateOptions, Translation};
pub use sse::{LineTooLong, SseReader, SseWriter};
pub use stream::{error_from_value, StreamEnd, StreamTranslator};
