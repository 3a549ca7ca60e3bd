//! The proxy the app runs: started with the keys in memory and the usage sink, stopped with
//! a grace period for streams under way (no lock held while they finish), moved to another
//! port (the new one bound first, Codex's config following).

use super::*;

impl App {
    pub(super) async fn launch(
        &self,
        settings: &Settings,
        listen: Option<SocketAddr>,
    ) -> Result<ProxyHandle, AppError> {
        let keys = Arc::new(CachedKeys(self.keys.clone()));
        let usage: Option<Arc<dyn UsageSink>> = Some(Arc::new(StatusSink {
            usage: self.usage.clone().map(|u| u as Arc<dyn UsageSink>),
            last: self.last_record.clone(),
            changes: self.changes.clone(),
        }));
        plugboard_server::start(
            settings.clone(),
            keys,
            ServeOptions {
                listen,
                usage,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| AppError::Proxy(e.to_string()))
    }

    /// Starts the proxy if it is not running; the outcome is in the status.
    pub async fn start(&self) -> ProxyStatus {
        self.ensure_keys().await;
        let mut inner = self.inner.lock().await;
        if inner.proxy.is_none() && inner.status != ProxyStatus::Quitting {
            match self.launch(&inner.settings, None).await {
                Ok(h) => {
                    inner.status = ProxyStatus::Running {
                        addr: h.addr().to_string(),
                    };
                    inner.proxy = Some(h);
                }
                Err(e) => {
                    tracing::error!(error = %e, "proxy start failed");
                    inner.status = ProxyStatus::Error {
                        message: e.to_string(),
                    };
                }
            }
        }
        let status = inner.status.clone();
        drop(inner);
        self.changed();
        status
    }

    /// Stops the proxy: the port is free at once, streams get the configured grace period
    /// (`server.shutdown_grace_secs`), then end with `response.failed`. The app lock is not
    /// held while streams finish, so the window and the tray stay responsive.
    pub async fn stop(&self) -> ProxyStatus {
        self.stop_as(ProxyStatus::Stopped).await
    }

    async fn stop_as(&self, next: ProxyStatus) -> ProxyStatus {
        let stopping = {
            let mut inner = self.inner.lock().await;
            if inner.status == ProxyStatus::Quitting {
                return ProxyStatus::Quitting;
            }
            inner.status = next;
            match inner.proxy.take() {
                // Quick: the port is free before the lock is let go, so a Start right after
                // cannot find it taken.
                Some(h) => Some(h.begin_stop().await),
                None => None,
            }
        };
        self.changed();
        if let Some(s) = stopping {
            let report = s.finish().await;
            tracing::info!(cut = report.cut, "proxy stopped");
        }
        self.inner.lock().await.status.clone()
    }

    /// Before the process exits: the proxy stopped (requests under way get the grace period,
    /// then are recorded as cut), and every usage row written (bounded: a stuck disk must not
    /// hold up Quit).
    /// The window and the tray say "Quitting…" meanwhile.
    pub async fn quit(&self) {
        self.stop_as(ProxyStatus::Quitting).await;
        if let Some(u) = self.usage.clone() {
            let written = tokio::task::spawn_blocking(move || {
                u.flush_within(std::time::Duration::from_secs(3))
            })
            .await
            .unwrap_or(false);
            if !written {
                tracing::warn!("quitting before every usage row was written");
            }
        }
    }

    pub async fn toggle(&self) -> ProxyStatus {
        let running = self.inner.lock().await.proxy.is_some();
        if running {
            self.stop().await
        } else {
            self.start().await
        }
    }

    /// Moves the proxy to another port; where Codex's config pointed at the old address it
    /// follows (only Plugboard's `base_url` changes). The new port is bound first: a port in
    /// use is reported and the proxy stays where it was.
    pub async fn set_port(&self, port: u16) -> Result<(), AppError> {
        let (old_url, new_url) = {
            let mut inner = self.inner.lock().await;
            let old_url = base_url(&inner);
            self.move_port(&mut inner, port).await?;
            (old_url, base_url(&inner))
        };
        self.changed();
        if old_url != new_url {
            let moved = self
                .with_codex_files(move |home| plugboard_codex::retarget(&home, &old_url, &new_url))
                .await?;
            if moved {
                tracing::info!(port, "Codex's config follows the new port");
                self.changed();
            }
        }
        Ok(())
    }

    pub(super) async fn move_port(&self, inner: &mut Inner, port: u16) -> Result<(), AppError> {
        let mut next = inner.settings.clone();
        let ip = next
            .listen
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .unwrap_or([127, 0, 0, 1].into());
        let addr = SocketAddr::new(ip, port);
        next.listen = addr.to_string();
        if next.listen == inner.settings.listen {
            return Ok(());
        }
        if inner.proxy.is_none() {
            return self.commit(inner, next).await;
        }
        let fresh = self.launch(&next, None).await.map_err(|e| AppError::Port {
            port,
            reason: e.to_string(),
        })?;
        // The settings are saved the one way they always are; a save that fails leaves the
        // proxy where it was.
        let old = inner.proxy.replace(fresh);
        let (retired, saved) = match self.commit(inner, next).await {
            Ok(()) => (old, Ok(())),
            Err(e) => {
                let fresh = std::mem::replace(&mut inner.proxy, old);
                (fresh, Err(e))
            }
        };
        if let Some(retired) = retired {
            // Streams on the proxy left behind finish in the background instead of holding
            // the app.
            let stopping = retired.begin_stop().await;
            tokio::spawn(stopping.finish());
        }
        saved?;
        inner.status = ProxyStatus::Running {
            addr: addr.to_string(),
        };
        self.changed();
        Ok(())
    }
}

/// Passes each request record to the usage history and keeps the last one for the status
/// line, telling the window and the tray.
struct StatusSink {
    usage: Option<Arc<dyn UsageSink>>,
    last: Arc<std::sync::Mutex<Option<RequestRecord>>>,
    changes: Arc<tokio::sync::watch::Sender<u64>>,
}

impl UsageSink for StatusSink {
    fn record(&self, r: RequestRecord) {
        if crate::status::tells_about_provider(&r) {
            *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(r.clone());
            self.changes.send_modify(|n| *n = n.wrapping_add(1));
        }
        if let Some(u) = &self.usage {
            u.record(r);
        }
    }
}
