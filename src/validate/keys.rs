//! Duplicate keys and orphan references without holding the keys: each key is reduced to a
//! 128-bit hash (XXH3-128), the hashes are split into [`PARTITIONS`] partitions by their top
//! bits, and each partition is sorted and scanned on its own. The hashes live in memory
//! reserved from the session's memory pool; when the pool refuses more, they are written to
//! a file in the spill directory and read back one partition at a time. So a table of 100M
//! orders needs 1.6 GB of hashes in all but only 1/256th of them at once, and a group-by over
//! strings with a hash table of every key (what the SQL form of these checks does) is avoided.
//!
//! Both counts are exact upper bounds in one direction and confirmed in the other:
//! - equal keys have equal hashes, so "no equal hashes" proves "no duplicate key"; equal
//!   hashes are confirmed by the exact SQL count (the caller runs it when the count is > 0);
//! - a referring hash that no target key has proves an orphan; so the hash count of orphans
//!   never exceeds the exact one, and it is 0 when the exact one is not only if an orphan's
//!   hash equals another key's hash: for 10^9 keys a chance below 10^-20 (128-bit hashes).
//!   A count > 0 is confirmed by the exact SQL count.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::execution::SpillFile;
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::prelude::SessionContext;
use futures::StreamExt;
use xxhash_rust::xxh3::xxh3_128;

use crate::{Error, Result};

/// Partitions of the hash space (by the top 8 bits): a partition of 10^9 keys is 64 MB.
const PARTITIONS: usize = 256;
const HASH_BYTES: usize = std::mem::size_of::<u128>();
/// Hashes gathered before asking the memory pool for more room.
const CHUNK: usize = 1 << 16;

/// One spill: a file holding every partition in turn, with `(offset, count)` per partition.
struct Spill {
    file: Arc<dyn SpillFile>,
    index: Vec<(u64, usize)>,
}

/// The key hashes of one query's rows, partitioned, in memory and in spill files.
struct Hashes {
    memory: Vec<Vec<u128>>,
    in_memory: usize,
    reservation: MemoryReservation,
    spills: Vec<Spill>,
    ctx: SessionContext,
    what: String,
}

impl Hashes {
    fn new(ctx: &SessionContext, what: &str) -> Self {
        let reservation = MemoryConsumer::new(format!("validate: key hashes of {what}"))
            .with_can_spill(true)
            .register(&ctx.runtime_env().memory_pool);
        Hashes {
            memory: vec![Vec::new(); PARTITIONS],
            in_memory: 0,
            reservation,
            spills: Vec::new(),
            ctx: ctx.clone(),
            what: what.to_string(),
        }
    }

    /// Room for `n` more hashes: from the pool, or by spilling what this and `others` hold.
    fn reserve(&mut self, n: usize, others: &mut [&mut Hashes]) -> Result<()> {
        if self.reservation.try_grow(n * HASH_BYTES).is_ok() {
            return Ok(());
        }
        self.spill()?;
        for other in others.iter_mut() {
            other.spill()?;
        }
        self.reservation.try_grow(n * HASH_BYTES).map_err(|e| {
            Error::DataFusion(e).context(format!(
                "validate: hashing the keys of {}, even after spilling",
                self.what
            ))
        })
    }

    /// Ready to read partitions: when anything was spilled, the rest is spilled too, so that
    /// memory then holds one partition at a time.
    fn finish(&mut self) -> Result<()> {
        if !self.spills.is_empty() {
            self.spill()?;
        }
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        if self.in_memory == 0 {
            return Ok(());
        }
        let file = self
            .ctx
            .runtime_env()
            .disk_manager
            .create_tmp_file(&format!("validate: key hashes of {}", self.what))?;
        let path = spill_path(&*file)?;
        let io = |e| Error::io(&path, e);
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&path).map_err(io)?);
        let mut index = Vec::with_capacity(PARTITIONS);
        let mut offset = 0u64;
        for part in &mut self.memory {
            index.push((offset, part.len()));
            for h in part.iter() {
                out.write_all(&h.to_le_bytes()).map_err(io)?;
            }
            offset += (part.len() * HASH_BYTES) as u64;
            *part = Vec::new();
        }
        out.flush().map_err(io)?;
        self.spills.push(Spill { file, index });
        self.in_memory = 0;
        self.reservation.free();
        Ok(())
    }

    fn push(&mut self, h: u128) {
        self.memory[(h >> 120) as usize].push(h);
        self.in_memory += 1;
    }

    /// Partition `p`, sorted: what memory holds plus what each spill file holds. After
    /// [`Hashes::finish`], memory holds nothing or everything.
    fn partition(&mut self, p: usize) -> Result<Vec<u128>> {
        let mut part = std::mem::take(&mut self.memory[p]);
        let spilled: usize = self.spills.iter().map(|s| s.index[p].1).sum();
        if spilled > 0 {
            self.reservation
                .try_resize(spilled * HASH_BYTES)
                .map_err(|e| {
                    Error::DataFusion(e).context(format!(
                        "validate: reading back the key hashes of {}",
                        self.what
                    ))
                })?;
        }
        for Spill { file, index } in &self.spills {
            let (offset, count) = index[p];
            if count == 0 {
                continue;
            }
            let path = spill_path(&**file)?;
            let io = |e| Error::io(&path, e);
            let mut f = File::open(&path).map_err(io)?;
            f.seek(SeekFrom::Start(offset)).map_err(io)?;
            let mut bytes = vec![0u8; count * HASH_BYTES];
            f.read_exact(&mut bytes).map_err(io)?;
            part.extend(
                bytes
                    .chunks_exact(HASH_BYTES)
                    .map(|c| u128::from_le_bytes(c.try_into().expect("16-byte chunk"))),
            );
        }
        part.sort_unstable();
        Ok(part)
    }
}

fn spill_path(file: &dyn SpillFile) -> Result<std::path::PathBuf> {
    file.path().map(|p| p.to_path_buf()).ok_or_else(|| {
        Error::Internal("validate: the spill directory is not a local directory".into())
    })
}

/// Hashes every row of `sql` (its columns are the key; rows with a NULL in any of them must
/// be filtered out by the query).
async fn hash_rows(
    ctx: &SessionContext,
    sql: &str,
    what: &str,
    others: &mut [&mut Hashes],
) -> Result<Hashes> {
    let mut hashes = Hashes::new(ctx, what);
    let mut stream = ctx.sql(sql).await?.execute_stream().await?;
    let mut buffer = Vec::new();
    let mut room = 0usize;
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let columns = batch
            .columns()
            .iter()
            .map(as_strings)
            .collect::<Result<Vec<_>>>()?;
        for row in 0..batch.num_rows() {
            if room == 0 {
                hashes.reserve(CHUNK, others)?;
                room = CHUNK;
            }
            room -= 1;
            let h = match columns.as_slice() {
                [one] => xxh3_128(one.value(row)),
                many => {
                    // Length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
                    buffer.clear();
                    for c in many {
                        let v = c.value(row);
                        buffer.extend_from_slice(&(v.len() as u64).to_le_bytes());
                        buffer.extend_from_slice(v);
                    }
                    xxh3_128(&buffer)
                }
            };
            hashes.push(h);
        }
    }
    Ok(hashes)
}

/// A column of text as bytes per row, whatever string type the engine chose.
enum Strings {
    Utf8(ArrayRef),
    Large(ArrayRef),
    View(ArrayRef),
}

impl Strings {
    fn value(&self, row: usize) -> &[u8] {
        match self {
            Strings::Utf8(a) => a.as_string::<i32>().value(row).as_bytes(),
            Strings::Large(a) => a.as_string::<i64>().value(row).as_bytes(),
            Strings::View(a) => a.as_string_view().value(row).as_bytes(),
        }
    }
}

fn as_strings(column: &ArrayRef) -> Result<Strings> {
    Ok(match column.data_type() {
        DataType::Utf8 => Strings::Utf8(column.clone()),
        DataType::LargeUtf8 => Strings::Large(column.clone()),
        DataType::Utf8View => Strings::View(column.clone()),
        _ => Strings::Utf8(datafusion::arrow::compute::cast(column, &DataType::Utf8)?),
    })
}

/// Rows of `keys` (a query of key columns, no NULLs) whose key hash occurs more than once:
/// 0 proves there is no duplicate key.
pub(super) async fn duplicate_rows(ctx: &SessionContext, keys: &str, what: &str) -> Result<u64> {
    count_duplicates(hash_rows(ctx, keys, what, &mut []).await?)
}

fn count_duplicates(mut hashes: Hashes) -> Result<u64> {
    hashes.finish()?;
    let mut rows = 0u64;
    for p in 0..PARTITIONS {
        let part = hashes.partition(p)?;
        for run in part.chunk_by(|a, b| a == b) {
            if run.len() > 1 {
                rows += run.len() as u64;
            }
        }
    }
    Ok(rows)
}

/// Rows of `referring` (one column, no NULLs) whose value's hash no row of `target` (one
/// column) has: every one counted is an orphan.
pub(super) async fn orphan_rows(
    ctx: &SessionContext,
    referring: &str,
    target: &str,
    what: &str,
) -> Result<u64> {
    let mut targets = hash_rows(ctx, target, &format!("{what} (targets)"), &mut []).await?;
    let mut refs = hash_rows(ctx, referring, what, &mut [&mut targets]).await?;
    targets.finish()?;
    refs.finish()?;
    let mut orphans = 0u64;
    for p in 0..PARTITIONS {
        let t = targets.partition(p)?;
        let r = refs.partition(p)?;
        let mut i = 0;
        for h in r {
            while i < t.len() && t[i] < h {
                i += 1;
            }
            if i == t.len() || t[i] != h {
                orphans += 1;
            }
        }
    }
    Ok(orphans)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::SessionConfig;

    fn context(memory: usize) -> SessionContext {
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_limit(memory, 1.0)
            .build_arc()
            .unwrap();
        SessionContext::new_with_config_rt(SessionConfig::new().with_batch_size(1000), runtime)
    }

    async fn counts(memory: usize) -> (u64, u64, u64, usize) {
        let ctx = context(memory);
        // 200,000 keys 0..199999 with 7, 8, 9 doubled and 5 tripled: 3 × 2 + 3 = 9 rows.
        ctx.sql(
            "create view k as select cast(value as varchar) as a, cast(value % 3 as varchar) as b \
             from generate_series(0, 199999) \
             union all select '7', '1' union all select '8', '2' union all select '9', '0' \
             union all select '5', '2' union all select '5', '2'",
        )
        .await
        .unwrap();
        let hashes = hash_rows(&ctx, "select a from k", "k", &mut [])
            .await
            .unwrap();
        let spills = hashes.spills.len();
        let single = count_duplicates(hashes).unwrap();
        // (a, b) pairs: '7','1' matches 7 % 3 = 1, '8','2' matches, '9','0' matches, ('5','2')
        // ×3: the same 9 rows; and length prefixes keep ('1','23') apart from ('12','3').
        let pairs = duplicate_rows(&ctx, "select a, b from k", "k")
            .await
            .unwrap();
        // Referring values 0..249999 against targets 0..199999 (and doubles): 50,000 orphans.
        ctx.sql(
            "create view r as select cast(value as varchar) as a from generate_series(0, 249999)",
        )
        .await
        .unwrap();
        let orphans = orphan_rows(&ctx, "select a from r", "select a from k", "r")
            .await
            .unwrap();
        (single, pairs, orphans, spills)
    }

    #[tokio::test]
    async fn counts_duplicates_and_orphans_in_memory_and_spilled() {
        // 1 GB: everything in memory. 2 MB: room for 131,072 hashes of the 200,009, so the
        // hashes of one query are spilled at least once.
        assert_eq!(counts(1 << 30).await, (9, 9, 50_000, 0));
        let (single, pairs, orphans, spills) = counts(2 << 20).await;
        assert_eq!((single, pairs, orphans), (9, 9, 50_000));
        assert!(spills > 0, "2 MB should have spilled");
    }

    #[tokio::test]
    async fn length_prefixes_keep_column_boundaries() {
        let ctx = context(1 << 30);
        let n = duplicate_rows(
            &ctx,
            "select * from (values ('1', '23'), ('12', '3')) t(a, b)",
            "t",
        )
        .await
        .unwrap();
        assert_eq!(n, 0);
    }
}
