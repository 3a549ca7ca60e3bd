//! Providers that failed recently are skipped for a while when a route has somewhere else
//! to go (the circuit breaker of failover); a success forgets the failure.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Cooldowns {
    until: Mutex<HashMap<String, Instant>>,
    period: Duration,
}

impl Cooldowns {
    pub fn new(period: Duration) -> Self {
        Self {
            until: Mutex::default(),
            period,
        }
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.until.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether `provider` failed less than the period ago.
    pub fn is_cooling(&self, provider: &str) -> bool {
        self.map()
            .get(provider)
            .is_some_and(|until| Instant::now() < *until)
    }

    /// `provider` failed: skip it for the period.
    pub fn failed(&self, provider: &str) {
        self.map()
            .insert(provider.to_string(), Instant::now() + self.period);
    }

    /// `provider` answered: it is usable again at once.
    pub fn served(&self, provider: &str) {
        self.map().remove(provider);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_cools_a_provider_down_until_it_serves() {
        let c = Cooldowns::new(Duration::from_secs(60));
        assert!(!c.is_cooling("a"));
        c.failed("a");
        assert!(c.is_cooling("a") && !c.is_cooling("b"));
        c.served("a");
        assert!(!c.is_cooling("a"));
        let none = Cooldowns::new(Duration::ZERO);
        none.failed("a");
        assert!(!none.is_cooling("a"), "a zero period never cools");
    }
}
