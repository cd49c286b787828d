//! The decoded series as the page holds it: its voxels in one JavaScript buffer, outside
//! WebAssembly's memory. The decoding worker fills that buffer slice by slice and hands
//! it to the page without a copy, so a 1,000-slice 512² series (0.5 GB) exists once in
//! the tab rather than three times (the worker's memory, the message, the page's).

use js_sys::Int16Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use sarcoscope::ingest::{LoadedSeries, SeriesFiles};
use sarcoscope::l3::L3Result;
use sarcoscope::volume::{Volume, Voxels};

/// A decoded series: its voxels, its files, and where the L3 search put the level.
#[derive(Clone, Debug)]
pub struct Loaded {
    pub volume: Volume<JsVoxels>,
    pub files: SeriesFiles,
    pub level: L3Result,
    /// How long the L3 search took in the worker.
    pub level_ms: f64,
}

impl Loaded {
    pub fn new(series: LoadedSeries, hu: JsVoxels) -> Loaded {
        Loaded {
            volume: Volume {
                header: series.header,
                hu,
            },
            files: series.files,
            level: series.level,
            level_ms: series.level_ms,
        }
    }
}

/// Voxels in a JavaScript `Int16Array`: read and written a run at a time through a copy
/// in WebAssembly's memory (a slice is 0.5 MB), kept whole outside it.
#[derive(Clone, Debug)]
pub struct JsVoxels {
    array: Int16Array,
    /// The array's length, asked once: asking JavaScript for it at every access took
    /// 19 ms of the decoding worker's time on a 300-slice 512² series.
    len: usize,
}

#[wasm_bindgen]
extern "C" {
    /// `new Int16Array(length)`, which throws (rather than aborting the module) when
    /// the browser cannot have the memory.
    #[wasm_bindgen(js_name = Int16Array)]
    type FreshInt16Array;
    #[wasm_bindgen(catch, constructor, js_class = "Int16Array")]
    fn new(length: f64) -> Result<FreshInt16Array, JsValue>;
}

#[wasm_bindgen(module = "/js/voxels.js")]
extern "C" {
    /// Only the page may call it: the decoding worker, a classic worker, cannot load
    /// a JavaScript module.
    #[wasm_bindgen(js_name = gather)]
    fn gather_in_js(
        array: &Int16Array,
        start: f64,
        step: f64,
        count: u32,
        no_data: i16,
    ) -> Int16Array;
}

impl JsVoxels {
    /// `len` voxels, all 0 (the browser's fresh memory), or `None` when it refuses.
    pub fn zeroed(len: usize) -> Option<JsVoxels> {
        let array = FreshInt16Array::new(len as f64).ok()?;
        Some(JsVoxels::of(array.unchecked_into()))
    }

    /// Voxels that arrived from the worker.
    pub fn of(array: Int16Array) -> JsVoxels {
        let len = array.length() as usize;
        JsVoxels { array, len }
    }

    /// The buffer itself, to be transferred to another thread (after which this one
    /// is empty).
    pub fn into_array(self) -> Int16Array {
        self.array
    }

    /// A copy of the `len` voxels from `start` in a buffer of its own (to transfer to a
    /// worker), `None` when they are not all kept.
    pub fn copy(&self, start: usize, len: usize) -> Option<Int16Array> {
        let end = start.checked_add(len)?;
        (end <= self.len()).then(|| self.array.slice(start as u32, end as u32))
    }
}

impl Voxels for JsVoxels {
    fn len(&self) -> usize {
        self.len
    }

    fn read<R>(&self, start: usize, len: usize, f: impl FnOnce(&[i16]) -> R) -> Option<R> {
        let end = start.checked_add(len)?;
        if end > self.len() {
            return None;
        }
        let mut run = vec![0; len];
        self.array
            .subarray(start as u32, end as u32)
            .copy_to(&mut run);
        Some(f(&run))
    }

    fn write(&mut self, start: usize, len: usize, f: impl FnOnce(&mut [i16])) {
        let Some(end) = start.checked_add(len).filter(|&end| end <= self.len()) else {
            return;
        };
        let mut run = vec![0; len];
        f(&mut run);
        self.array
            .subarray(start as u32, end as u32)
            .copy_from(&run);
    }

    /// Within the browser's buffer (`copyWithin`), nothing through WebAssembly's memory.
    fn copy_within(&mut self, from: usize, to: usize, len: usize) {
        let fits = |at: usize| at.checked_add(len).is_some_and(|end| end <= self.len());
        if fits(from) && fits(to) {
            let at = |n: usize| n as i32;
            self.array.copy_within(at(to), at(from), at(from + len));
        }
    }

    /// In JavaScript, one call for the run (see `js/voxels.js`); only the page's
    /// reformats gather.
    fn gather(&self, start: usize, step: usize, count: usize) -> Vec<i16> {
        let Ok(count) = u32::try_from(count) else {
            return vec![Volume::NO_DATA; count];
        };
        gather_in_js(
            &self.array,
            start as f64,
            step as f64,
            count,
            Volume::NO_DATA,
        )
        .to_vec()
    }
}
