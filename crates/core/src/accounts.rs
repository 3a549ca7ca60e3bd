//! A team gateway's users, as the proxy sees them: who a request's token belongs to and
//! whether they may spend more this month. The store behind it (hashed tokens, budgets, the
//! month's spend) is `plugboard-usage`'s; the proxy only asks, from memory, per request.

use std::sync::Arc;

/// The user a request is attributed to (their name, never their token).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Caller(pub Arc<str>);

impl Caller {
    pub fn name(&self) -> &str {
        &self.0
    }
}

/// A spent monthly budget: why a user's request is refused.
#[derive(Debug, Clone, PartialEq)]
pub struct BudgetSpent {
    pub budget_usd: f64,
    pub spent_usd: f64,
    /// The first day of next month (UTC), `YYYY-MM-DD`, when the budget renews.
    pub renews: String,
}

/// Why a user's request is refused before it is served.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The month's budget is spent.
    Spent(BudgetSpent),
    /// The user has a budget and the store that keeps the spend has not answered for
    /// `stale_secs`: budgets fail closed rather than let spend run unchecked.
    Unverifiable { stale_secs: u64 },
    /// The user was removed after the request's connection was admitted (a WebSocket lives
    /// on): their token no longer counts.
    Removed,
}

pub trait Accounts: Send + Sync + 'static {
    /// Whether users are defined: then every request needs a user's token.
    fn enabled(&self) -> bool;
    /// The user holding `token`, if any. Called with whatever the client sent.
    fn identify(&self, token: &[u8]) -> Option<Caller>;
    /// Why `caller` may not spend now, if they may not.
    fn refusal(&self, caller: &Caller) -> Option<Refusal>;
}
