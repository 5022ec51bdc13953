//! Argon2id hashing (OWASP parameters: m=19456 KiB, t=2, p=1, the crate's defaults)
//! on a bounded pool of threads, one per core, off the async executor.
//!
//! Two pools serve a deployment: the admins' bulk work, and the self-service checks
//! of students and parents. The self-service pool also bounds its queue: when that
//! many checks wait already, one more is refused at once (`Busy`, a 503) rather than
//! joining an unbounded backlog. Nothing longer than [`MAX_SECRET_CHARS`] is hashed.
//!
//! Each worker keeps the 19 MiB an Argon2 hash works in and reuses it for the next
//! hash, instead of asking the allocator for it every time: with two workers, mapping
//! and unmapping that much memory per hash (page faults, then the other core's TLB
//! flushed) cost a third of the pool's throughput on a 2-core machine. That memory
//! sits on huge pages where the kernel grants them (see [`Memory`]).

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::password_hash::{PasswordVerifier, try_generate_salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rayon::prelude::*;
use secrecy::{ExposeSecret, SecretString};
use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

/// The longest secret ever hashed, in code points (SPEC §3: passwords are at most 128).
pub const MAX_SECRET_CHARS: usize = 128;

/// Why a hash was not computed.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    /// The queue of this pool is full.
    #[error("the password-checking queue is full")]
    Busy,
    #[error(transparent)]
    Failed(#[from] anyhow::Error),
}

impl From<HashError> for crate::domain::Error {
    fn from(error: HashError) -> Self {
        match error {
            HashError::Busy => Self::Busy { retry_after_secs: 1 },
            HashError::Failed(source) => Self::Internal(source),
        }
    }
}

/// A place held in a bounded queue; given back when dropped.
pub struct Place(#[allow(dead_code)] Option<tokio::sync::OwnedSemaphorePermit>);

/// Hashes and verifies passwords on its own thread pool.
#[derive(Clone)]
pub struct Hasher {
    pool: Arc<rayon::ThreadPool>,
    /// Places in the queue, when it is bounded.
    queue: Option<Arc<tokio::sync::Semaphore>>,
    /// Argon2 verifications run so far (what a benchmark of the guards counts).
    verified: Arc<std::sync::atomic::AtomicU64>,
}

impl Hasher {
    /// A pool of `threads` workers (0: one per available core), its queue unbounded
    /// (bulk work, which its callers bound by request size).
    pub fn new(threads: usize) -> anyhow::Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("argon2-{i}"))
            .build()?;
        Ok(Self {
            pool: Arc::new(pool),
            queue: None,
            verified: Arc::default(),
        })
    }

    /// A pool whose queue holds at most `queue` pieces of work, waiting or running.
    pub fn bounded(threads: usize, queue: usize) -> anyhow::Result<Self> {
        Ok(Self {
            queue: Some(Arc::new(tokio::sync::Semaphore::new(queue.max(1)))),
            ..Self::new(threads)?
        })
    }

    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// How many Argon2 verifications this pool has run.
    pub fn verifications(&self) -> u64 {
        self.verified.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// A place in this pool's queue, taken now (`Busy` when the queue is full), so
    /// that a caller may count an attempt only once it knows it can be checked.
    pub fn reserve(&self) -> Result<Place, HashError> {
        match &self.queue {
            Some(queue) => Arc::clone(queue)
                .try_acquire_owned()
                .map(|permit| Place(Some(permit)))
                .map_err(|_| HashError::Busy),
            None => Ok(Place(None)),
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let place = self.reserve()?;
        self.run_in(place, work).await
    }

    async fn run_in<T: Send + 'static>(
        &self,
        place: Place,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, HashError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _ = tx.send(work());
            drop(place);
        });
        rx.await.map_err(|e| HashError::Failed(e.into()))
    }

    /// The PHC string of one secret.
    pub async fn hash(&self, secret: SecretString) -> Result<String, HashError> {
        Ok(self.run(move || hash_one(&secret)).await??)
    }

    /// Hashes many secrets in parallel, in order.
    pub async fn hash_many(&self, secrets: Vec<SecretString>) -> Result<Vec<String>, HashError> {
        Ok(self
            .run(move || secrets.par_iter().map(hash_one).collect::<anyhow::Result<_>>())
            .await??)
    }

    /// Whether `secret` matches `phc`. With no hash to check against it still spends
    /// the time of one verification (against a fixed dummy hash), so that unknown
    /// logins answer in about the time wrong passwords do. A secret longer than
    /// [`MAX_SECRET_CHARS`] matches nothing and is not hashed.
    pub async fn verify(&self, secret: SecretString, phc: Option<String>) -> Result<bool, HashError> {
        let place = self.reserve()?;
        self.verify_in(place, secret, phc).await
    }

    /// [`Hasher::verify`] in a place reserved beforehand.
    pub async fn verify_in(
        &self,
        place: Place,
        secret: SecretString,
        phc: Option<String>,
    ) -> Result<bool, HashError> {
        if too_long(&secret) {
            return Ok(false);
        }
        self.verified.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.run_in(place, move || match phc {
            Some(phc) => verify_one(&secret, &phc),
            None => {
                let _ = verify_one(&secret, dummy_hash());
                false
            }
        })
        .await
    }
}

fn too_long(secret: &SecretString) -> bool {
    secret.expose_secret().chars().nth(MAX_SECRET_CHARS).is_some()
}

fn hash_one(secret: &SecretString) -> anyhow::Result<String> {
    anyhow::ensure!(
        !too_long(secret),
        "refusing to hash a secret over {MAX_SECRET_CHARS} characters"
    );
    let salt = try_generate_salt().map_err(|e| anyhow::anyhow!("no random salt: {e}"))?;
    let params = Params::DEFAULT;
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    with_memory(|memory| {
        argon2.hash_password_into_with_memory(secret.expose_secret().as_bytes(), &salt, &mut out, memory)
    })
    .map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2 parameters: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("argon2 salt: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2 output: {e}"))?),
    };
    Ok(phc.to_string())
}

fn verify_one(secret: &SecretString, phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let password = secret.expose_secret().as_bytes();
    match (ours(&parsed), &parsed.salt, &parsed.hash) {
        (Some(argon2), Some(salt), Some(expected)) => {
            let mut out = vec![0u8; expected.len()];
            with_memory(|memory| argon2.hash_password_into_with_memory(password, salt, &mut out, memory)).is_ok()
                // `Output`'s comparison takes the same time wherever the bytes differ.
                && Output::new(&out).is_ok_and(|computed| &computed == expected)
        }
        // Other parameters than ours: the crate's own path, with memory of its own.
        _ => Argon2::default().verify_password(password, &parsed).is_ok(),
    }
}

/// The hasher of a PHC string made with our parameters (Argon2id, v=19, the default
/// costs), whose memory the worker keeps; `None` for any other.
fn ours(parsed: &PasswordHash) -> Option<Argon2<'static>> {
    let params = Params::try_from(parsed).ok()?;
    let default = Params::DEFAULT;
    (Algorithm::try_from(parsed.algorithm.as_str()).ok()? == Algorithm::Argon2id
        && parsed.version.is_none_or(|v| v == u32::from(Version::V0x13))
        && params.m_cost() == default.m_cost()
        && params.t_cost() == default.t_cost()
        && params.p_cost() == default.p_cost())
    .then(|| Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Runs `work` with this thread's Argon2 memory (the default parameters' blocks),
/// allocated on the thread's first hash and kept for the next. Argon2 writes every
/// block before it reads it, so what the last hash left there is never read.
fn with_memory<T>(work: impl FnOnce(&mut [Block]) -> T) -> T {
    thread_local! {
        static MEMORY: RefCell<Memory> = const { RefCell::new(Memory { buffer: Vec::new(), start: 0 }) };
    }
    MEMORY.with_borrow_mut(|memory| work(memory.blocks()))
}

/// A worker's Argon2 blocks, on huge pages where the system grants them.
///
/// A hash reads its 19 MiB at random, so with 4 KiB pages almost every block it
/// reads is also a TLB miss, and with two workers the page-table walks compete for
/// the same cache as the blocks (what it gains: BENCHMARKS.md, bulk reset). Asking
/// is only advice: where the kernel has none to give, or on another system, the
/// same memory works on ordinary pages.
struct Memory {
    buffer: Vec<Block>,
    /// Where the blocks begin in `buffer`: just past a 2 MiB boundary.
    start: usize,
}

impl Memory {
    const HUGE_PAGE: usize = 2 << 20;

    fn blocks(&mut self) -> &mut [Block] {
        let count = Params::DEFAULT.block_count();
        if self.buffer.is_empty() {
            // Whole huge pages from the first 2 MiB boundary, wherever the allocator
            // puts the buffer; the blocks begin at that boundary.
            let span = (count * size_of::<Block>()).next_multiple_of(Self::HUGE_PAGE);
            let capacity = (span + Self::HUGE_PAGE) / size_of::<Block>();
            let mut buffer = Vec::<Block>::with_capacity(capacity);
            let address = buffer.as_ptr() as usize;
            let aligned = address.next_multiple_of(Self::HUGE_PAGE);
            advise_huge_pages(aligned, span);
            self.start = (aligned - address).div_ceil(size_of::<Block>());
            // Touched only now, so that the first touch maps huge pages.
            buffer.resize(self.start + count, Block::default());
            self.buffer = buffer;
        }
        &mut self.buffer[self.start..self.start + count]
    }
}

/// Asks the kernel to back `[address, address + len)`, inside an allocation of
/// ours, with huge pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(address: usize, len: usize) {
    // SAFETY: the range lies inside a live allocation this thread owns, page
    // aligned; MADV_HUGEPAGE changes how its pages are mapped, never their content.
    // A refusal (no transparent huge pages) leaves ordinary pages, which is fine.
    unsafe {
        libc::madvise(address as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_address: usize, _len: usize) {}

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

    #[test]
    fn hashes_made_in_kept_memory_are_the_crates_own() {
        use argon2::password_hash::PasswordHasher;
        // Several in a row on one thread: each starts from what the last one left.
        for secret in ["first secret", "second", "é ü 李"] {
            let ours = hash_one(&SecretString::from(secret)).unwrap();
            let parsed = PasswordHash::new(&ours).unwrap();
            assert!(
                Argon2::default()
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            );
            let theirs = Argon2::default()
                .hash_password(secret.as_bytes())
                .unwrap()
                .to_string();
            assert!(verify_one(&SecretString::from(secret), &theirs));
            assert!(!verify_one(&SecretString::from("other"), &theirs));
        }
        // A hash with other costs still verifies, through the crate's own memory.
        let params = Params::new(8192, 1, 1, None).unwrap();
        let light = Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password(b"light")
            .unwrap()
            .to_string();
        assert!(verify_one(&SecretString::from("light"), &light));
        assert!(!verify_one(&SecretString::from("heavy"), &light));
        assert!(!verify_one(&SecretString::from("light"), "not a hash"));
    }

    #[test]
    fn a_workers_blocks_begin_just_past_a_huge_page_boundary_and_stay_there() {
        let mut memory = Memory {
            buffer: Vec::new(),
            start: 0,
        };
        let first = memory.blocks().as_ptr() as usize;
        assert_eq!(memory.blocks().len(), Params::DEFAULT.block_count());
        assert!(first % Memory::HUGE_PAGE < size_of::<Block>());
        assert_eq!(
            memory.blocks().as_ptr() as usize,
            first,
            "allocated once, then kept"
        );
    }

    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let hasher = Hasher::bounded(1, 1).unwrap();
        let first = hasher.verify(SecretString::from("a"), None);
        let second = hasher.verify(SecretString::from("b"), None);
        let (first, second) = tokio::join!(first, second);
        assert!(first.is_ok());
        assert!(matches!(second, Err(HashError::Busy)));
    }

    #[tokio::test]
    async fn a_secret_over_128_code_points_is_never_hashed() {
        let hasher = Hasher::new(1).unwrap();
        let long = SecretString::from("é".repeat(129));
        assert!(!hasher.verify(long.clone(), None).await.unwrap());
        assert!(hasher.hash(long).await.is_err());
        assert!(hasher.hash(SecretString::from("é".repeat(128))).await.is_ok());
    }
}
