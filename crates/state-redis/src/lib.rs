//! A gateway's shared conversation state in Redis ([`SharedState`]): each finished turn under
//! its response id (its items and the id of the turn before it), each item id pointing at its
//! turn, and each issued item's key with the provider that issued it. Every key expires
//! (`ttl`), a turn larger than `max_turn_bytes` is kept by its own replica only, and every
//! call gives up after `timeout` so that a Redis that stopped answering costs a request at
//! most that, never a hang.

use futures_util::future::BoxFuture;
use plugboard_server::{SharedState, StateError, StoredTurn};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct RedisOptions {
    /// How long a turn, an item pointer and an issuer are kept.
    pub ttl: Duration,
    /// Turns larger than this (their JSON) are not shared.
    pub max_turn_bytes: usize,
    /// Every call's limit (connecting included).
    pub timeout: Duration,
    /// Prefix of every key, so that several gateways can share one Redis.
    pub prefix: String,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            ttl: Duration::from_secs(24 * 3600),
            max_turn_bytes: 8 * 1024 * 1024,
            timeout: Duration::from_millis(500),
            prefix: "plugboard:".into(),
        }
    }
}

pub struct RedisState {
    con: ConnectionManager,
    opts: RedisOptions,
}

#[derive(Serialize, Deserialize)]
struct TurnJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
    #[serde(default)]
    items: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
}

fn err(e: impl std::fmt::Display) -> StateError {
    StateError(e.to_string())
}

impl RedisState {
    /// Reads the URL (`redis://HOST:PORT[/DB]`); the connection is made on first use and
    /// made again after Redis comes back.
    pub fn new(url: &str, opts: RedisOptions) -> Result<RedisState, StateError> {
        let client = redis::Client::open(url)
            .map_err(|e| StateError(format!("{}: {e}", plugboard_core::redact_url(url))))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(opts.timeout))
            .set_response_timeout(Some(opts.timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_millis(500));
        let con = ConnectionManager::new_lazy_with_config(client, config).map_err(err)?;
        Ok(RedisState { con, opts })
    }

    fn key(&self, kind: &str, id: &str) -> String {
        format!("{}{kind}:{id}", self.opts.prefix)
    }

    fn issuer_key(&self, k: u64) -> String {
        format!("{}issuer:{k:016x}", self.opts.prefix)
    }

    /// Runs `q` on a clone of the connection within the timeout.
    async fn run<T: redis::FromRedisValue>(&self, q: impl QueryAsync) -> Result<T, StateError> {
        let mut con = self.con.clone();
        match tokio::time::timeout(self.opts.timeout * 2, q.query(&mut con)).await {
            Ok(r) => r.map_err(err),
            Err(_) => Err(StateError(format!(
                "Redis did not answer within {} ms",
                (self.opts.timeout * 2).as_millis()
            ))),
        }
    }
}

/// A command or a pipeline, run the same way.
trait QueryAsync: Send {
    fn query<T: redis::FromRedisValue>(
        self,
        con: &mut ConnectionManager,
    ) -> impl std::future::Future<Output = redis::RedisResult<T>> + Send;
}

impl QueryAsync for redis::Cmd {
    async fn query<T: redis::FromRedisValue>(
        self,
        con: &mut ConnectionManager,
    ) -> redis::RedisResult<T> {
        self.query_async(con).await
    }
}

impl QueryAsync for redis::Pipeline {
    async fn query<T: redis::FromRedisValue>(
        self,
        con: &mut ConnectionManager,
    ) -> redis::RedisResult<T> {
        self.query_async(con).await
    }
}

impl SharedState for RedisState {
    fn save_turn<'a>(
        &'a self,
        id: &'a str,
        mut turn: StoredTurn,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            let earlier = std::mem::take(&mut turn.earlier);
            let item_ids: Vec<String> = turn
                .items
                .iter()
                .filter_map(|i| i.get("id").and_then(Value::as_str).map(str::to_string))
                .collect();
            let json = serde_json::to_string(&TurnJson {
                parent: turn.parent,
                items: turn.items,
                owner: turn.owner,
            })
            .map_err(err)?;
            if json.len() > self.opts.max_turn_bytes {
                tracing::info!(
                    bytes = json.len(),
                    limit = self.opts.max_turn_bytes,
                    "a turn too large to share: only this replica keeps it"
                );
                return Ok(());
            }
            let ttl = self.opts.ttl.as_secs().max(1);
            let mut pipe = redis::pipe();
            pipe.set_ex(self.key("turn", id), json, ttl).ignore();
            for item in item_ids {
                pipe.set_ex(self.key("item", &item), id, ttl).ignore();
            }
            // The conversation goes on: the turns before this one live as long as it does.
            for earlier in earlier {
                pipe.expire(self.key("turn", &earlier), ttl as i64).ignore();
            }
            self.run::<()>(pipe).await
        })
    }

    fn load_turn<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredTurn>, StateError>> {
        Box::pin(async move {
            let json: Option<String> = self.run(redis::Cmd::get(self.key("turn", id))).await?;
            let Some(json) = json else { return Ok(None) };
            let t: TurnJson = serde_json::from_str(&json).map_err(err)?;
            Ok(Some(StoredTurn {
                parent: t.parent,
                items: t.items,
                owner: t.owner,
                earlier: Vec::new(),
            }))
        })
    }

    fn item_owner<'a>(
        &'a self,
        item_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<String>, StateError>> {
        Box::pin(async move { self.run(redis::Cmd::get(self.key("item", item_id))).await })
    }

    fn save_issuers<'a>(
        &'a self,
        provider: &'a str,
        keys: Vec<u64>,
    ) -> BoxFuture<'a, Result<(), StateError>> {
        Box::pin(async move {
            let ttl = self.opts.ttl.as_secs().max(1);
            let mut pipe = redis::pipe();
            for k in keys {
                pipe.set_ex(self.issuer_key(k), provider, ttl).ignore();
            }
            self.run::<()>(pipe).await
        })
    }

    fn load_issuers<'a>(
        &'a self,
        keys: &'a [u64],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, StateError>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let names: Vec<String> = keys.iter().map(|k| self.issuer_key(*k)).collect();
            self.run(redis::Cmd::mget(names)).await
        })
    }

    fn ping(&self) -> BoxFuture<'_, Result<(), StateError>> {
        Box::pin(async move {
            let pong: String = self.run(redis::cmd("PING")).await?;
            if pong == "PONG" {
                Ok(())
            } else {
                Err(StateError(format!("Redis answered PING with `{pong}`")))
            }
        })
    }
}
