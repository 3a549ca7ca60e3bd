//! A store's URL as it may be shown (printed, logged, put in an error): its password gone.

/// `postgres://team:secret@db/usage` as `postgres://team:***@db/usage`, `redis://:pw@host` as
/// `redis://:***@host`; a URL without credentials as it is. The last `@` ends the credentials,
/// so a password holding an `@` is hidden whole.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.rsplit_once('@') {
        Some((auth, host)) => {
            let user = auth.split_once(':').map(|(u, _)| u).unwrap_or(auth);
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn passwords_never_shown() {
        for (url, shown) in [
            (
                "postgres://team:s3cret@db:5432/usage",
                "postgres://team:***@db:5432/usage",
            ),
            ("postgres://db/usage", "postgres://db/usage"),
            (
                "redis://:pw@127.0.0.1:6379/0",
                "redis://:***@127.0.0.1:6379/0",
            ),
            ("redis://u:p@ss@host/0", "redis://u:***@host/0"),
            ("redis://127.0.0.1:6379", "redis://127.0.0.1:6379"),
        ] {
            assert_eq!(redact_url(url), shown);
        }
    }
}
