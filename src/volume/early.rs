//! Slices decoded as their files arrive, before anyone knows which series the files make.
//! The browser's decoding worker waits while the page reads a set of files, and the
//! series to open is chosen only once every header is in; decoding each file as it comes
//! leaves only putting the slices in order for after the last read. Most sets dropped on
//! the page are one series of single-frame files: each file is decoded into the slot of
//! its place in the set, in voxels for as many slices as the set has files, and those
//! voxels become the series' volume when its slices are in order ([`Early::place`]).

use super::{FileData, Images, Loader, Voxels};
use crate::dicom::series::Series;
use crate::dicom::Instance;

/// A set's files, each decoded as it came into the slot of its place in the set.
pub struct Early<V, T> {
    voxels: V,
    rows: u32,
    columns: u32,
    /// By the file's place in the set: what [`Early::add`]'s `watch` made of its slice,
    /// for a file decoded here.
    seen: Vec<Option<T>>,
}

/// A series whose slices decoded early are in place in its volume.
pub struct Placed<'a, V, T> {
    /// The series' loader, the slices decoded early counted as filled; the other files
    /// are added to it as usual.
    pub loader: Loader<'a, V>,
    /// By the file's index among the series' instances: whether it was decoded early.
    pub decoded: Vec<bool>,
    /// By slice index: what [`Early::add`]'s `watch` made of the slice.
    pub seen: Vec<Option<T>>,
}

impl<V: Voxels, T> Early<V, T> {
    /// For a set of `files` files, expected to be images of `rows` × `columns`; `None`
    /// when `voxels` is not that size.
    pub fn new(voxels: V, files: usize, rows: u32, columns: u32) -> Option<Early<V, T>> {
        let len = files
            .checked_mul(rows as usize)?
            .checked_mul(columns as usize)?;
        (len == voxels.len() && len > 0).then(|| Early {
            voxels,
            rows,
            columns,
            seen: (0..files).map(|_| None).collect(),
        })
    }

    /// Whether the set's file `file` (its header `inst`) has a slot still free and is one
    /// image of the expected size: the only files [`Early::add`] decodes, so a caller can
    /// skip getting the bytes of any other.
    pub fn fits(&self, file: usize, inst: &Instance) -> bool {
        inst.frames == 1
            && (inst.rows, inst.columns) == (self.rows, self.columns)
            && self.seen.get(file).is_some_and(Option::is_none)
    }

    /// Decodes the set's file `file` (its header `inst`) into its slot if it
    /// [fits](Early::fits); `watch` sees the slice's HU while they are at hand and what
    /// it makes is kept with the slice. Whether the file was decoded: one that was not
    /// (another shape, or an error) is decoded with its series, which reports any error.
    pub fn add(
        &mut self,
        file: usize,
        inst: &Instance,
        data: FileData,
        watch: impl FnOnce(&[i16]) -> T,
    ) -> bool {
        if !self.fits(file, inst) {
            return false;
        }
        let (rows, columns) = (self.rows, self.columns);
        let Some(slot) = self.seen.get_mut(file) else {
            return false;
        };
        let Some(images) = Images::of(inst, data).ok().filter(|i| i.has(0)) else {
            return false;
        };
        let len = rows as usize * columns as usize;
        let mut seen = None;
        self.voxels.write(file * len, len, |target| {
            images.to_hu(0, inst, target);
            seen = Some(watch(target));
        });
        *slot = seen;
        slot.is_some()
    }

    /// The loader of `series` (`instances` its files' headers, `in_set[k]` the place of
    /// instance k's file in the set) with the slices decoded here put in order, moving
    /// each at most once. `Err` gives the voxels back (`None` if the series has no
    /// volume, see [`Loader::new_in`]) when the series is not every file of the set, each
    /// one image of the expected size.
    pub fn place<'a>(
        self,
        series: &'a Series,
        instances: &'a [Instance],
        in_set: &[usize],
    ) -> Result<Placed<'a, V, T>, Option<V>> {
        let Early {
            voxels,
            rows,
            columns,
            mut seen,
        } = self;
        let n = seen.len();
        if series.slices.len() != n || (series.rows, series.columns) != (rows, columns) {
            return Err(Some(voxels));
        }
        // `source[i]`: the slot that holds slice i, each slot one slice's.
        let mut source = Vec::with_capacity(n);
        let mut taken = vec![false; n];
        for slice in &series.slices {
            let slot = in_set.get(slice.file).copied().filter(|_| slice.frame == 0);
            match slot.and_then(|s| taken.get_mut(s).map(|t| (s, t))) {
                Some((s, t)) if !*t => {
                    *t = true;
                    source.push(s);
                }
                _ => return Err(Some(voxels)),
            }
        }
        let mut kept = Some(voxels);
        let Ok(mut loader) = Loader::new_in(series, instances, |_| kept.take()) else {
            return Err(kept);
        };
        let len = rows as usize * columns as usize;
        permute(&mut loader.volume.hu, &source, len);
        let decoded = (0..instances.len())
            .map(|k| {
                in_set
                    .get(k)
                    .is_some_and(|&s| seen.get(s).is_some_and(Option::is_some))
            })
            .collect();
        let seen = source
            .iter()
            .map(|&s| seen.get_mut(s).and_then(Option::take))
            .collect::<Vec<_>>();
        for (filled, seen) in loader.filled.iter_mut().zip(&seen) {
            *filled = seen.is_some();
        }
        Ok(Placed {
            loader,
            decoded,
            seen,
        })
    }
}

/// Puts run `source[i]` of `hu` (runs of `len` voxels, `source` a permutation) at run
/// `i`, cycle by cycle: each run moves once, and one is held aside per cycle.
fn permute(hu: &mut impl Voxels, source: &[usize], len: usize) {
    let mut moved = vec![false; source.len()];
    for start in 0..source.len() {
        if moved[start] || source[start] == start {
            continue;
        }
        let held = hu.read(start * len, len, <[i16]>::to_vec);
        let mut at = start;
        moved[at] = true;
        while let Some(&from) = source.get(at).filter(|&&from| from != start) {
            hu.copy_within(from * len, at * len, len);
            moved[from] = true;
            at = from;
        }
        if let Some(held) = held {
            hu.write(at * len, len, |target| target.copy_from_slice(&held));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_permuted_in_place_whatever_the_cycles() {
        let len = 3;
        for source in [
            vec![0, 1, 2, 3, 4],
            vec![4, 3, 2, 1, 0],
            vec![1, 2, 3, 4, 0],
            vec![2, 0, 1, 4, 3],
        ] {
            let mut hu: Vec<i16> = (0..source.len() * len).map(|v| v as i16).collect();
            let old = hu.clone();
            permute(&mut hu, &source, len);
            for (i, &s) in source.iter().enumerate() {
                assert_eq!(hu[i * len..(i + 1) * len], old[s * len..(s + 1) * len]);
            }
        }
    }
}
