//! Argon2id hashing (OWASP parameters: m=19456 KiB, t=2, p=1, the crate's defaults)
//! on a bounded pool of threads, one per core, off the async executor.

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use std::sync::{Arc, OnceLock};

/// Hashes and verifies passwords on its own thread pool.
#[derive(Clone)]
pub struct Hasher {
    pool: Arc<rayon::ThreadPool>,
}

impl Hasher {
    /// A pool of `threads` workers (0: one per available core).
    pub fn new(threads: usize) -> anyhow::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("argon2-{i}"))
            .build()?;
        Ok(Self { pool: Arc::new(pool) })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> anyhow::Result<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _ = tx.send(work());
        });
        Ok(rx.await?)
    }

    /// The PHC string of one secret.
    pub async fn hash(&self, secret: SecretString) -> anyhow::Result<String> {
        self.run(move || hash_one(&secret)).await?
    }

    /// Hashes many secrets in parallel, in order.
    pub async fn hash_many(&self, secrets: Vec<SecretString>) -> anyhow::Result<Vec<String>> {
        self.run(move || secrets.par_iter().map(hash_one).collect())
            .await?
    }

    /// Whether `secret` matches `phc`. With no hash to check against it still spends
    /// the time of one verification (against a fixed dummy hash), so that unknown
    /// logins answer in about the time wrong passwords do.
    pub async fn verify(&self, secret: SecretString, phc: Option<String>) -> anyhow::Result<bool> {
        self.run(move || match phc {
            Some(phc) => verify_one(&secret, &phc),
            None => {
                let _ = verify_one(&secret, dummy_hash());
                false
            }
        })
        .await
    }
}

fn hash_one(secret: &SecretString) -> anyhow::Result<String> {
    let hash = Argon2::default()
        .hash_password(secret.expose_secret().as_bytes())
        .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    Ok(hash.to_string())
}

fn verify_one(secret: &SecretString, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(secret.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_one(&SecretString::from("sesame-dummy-password-for-timing")).unwrap_or_else(|_| {
            // Same parameters as a real hash; only reached if hashing itself fails.
            "$argon2id$v=19$m=19456,t=2,p=1$c2VzYW1lc2VzYW1l$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                .to_owned()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_secret_and_nothing_else() {
        let hasher = Hasher::new(1).unwrap();
        let hash = hasher.hash(SecretString::from("correct horse")).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(
            hasher
                .verify(SecretString::from("correct horse"), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hasher
                .verify(SecretString::from("wrong horse"), Some(hash))
                .await
                .unwrap()
        );
        assert!(!hasher.verify(SecretString::from("anything"), None).await.unwrap());
    }
}
