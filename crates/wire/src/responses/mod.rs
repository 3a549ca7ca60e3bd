//! Responses API wire types: the request clients send (lenient), and the response objects,
//! output items and stream events Plugboard emits (typed, exactly the fields clients read).

mod echo;
mod events;
mod items;
mod output;
mod request;

pub use echo::{ReasoningEcho, RequestEcho, TextEcho};
pub use events::StreamEvent;
pub use items::*;
pub use output::*;
pub use request::*;
