//! The shipped model in a browser worker: on WebGPU (SwiftShader in headless Chromium)
//! and on the CPU backend, the same slice must give the same mask. Run by
//! `cargo test --target wasm32-unknown-unknown --test webgpu` (scripts/test); natively
//! this file is empty.
#![cfg(target_arch = "wasm32")]

use burn::prelude::Device;
use sarcoscope::segment::dataset::{phantom_slice, PhantomRange};
use sarcoscope::segment::TissueClass;
use sarcoscope_network::{ModelCard, PostProcess, Segmenter};
use wasm_bindgen_test::wasm_bindgen_test;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

const CARD: &[u8] = include_bytes!("../models/sarcoscope-l3-unet.json");
const WEIGHTS: &[u8] = include_bytes!("../models/sarcoscope-l3-unet.weights");

#[wasm_bindgen_test]
async fn webgpu_and_cpu_give_the_same_mask() {
    let card = ModelCard::parse(CARD).expect("the shipped model card parses");
    let gpu = Device::wgpu_options()
        .init_async()
        .await
        .expect("a WebGPU adapter (Chromium needs --enable-unsafe-webgpu; see webdriver.json)");
    let gpu = Segmenter::new(card.clone(), WEIGHTS, gpu).expect("weights load on WebGPU");
    let cpu = Segmenter::new(card, WEIGHTS, Device::flex()).expect("weights load on the CPU");
    let post = PostProcess::default();
    for index in 0..2 {
        let labelled = phantom_slice(77, index, &PhantomRange::default());
        let slice = labelled.slice().expect("a valid slice");
        let on_gpu = gpu
            .segment_async(&slice, &post)
            .await
            .expect("WebGPU runs")
            .mask;
        let on_cpu = cpu
            .segment_async(&slice, &post)
            .await
            .expect("the CPU runs")
            .mask;
        let same = on_gpu
            .labels()
            .iter()
            .zip(on_cpu.labels())
            .filter(|(a, b)| a == b)
            .count();
        let share = same as f64 / on_cpu.labels().len() as f64;
        let muscle = on_cpu.count(TissueClass::SkeletalMuscle);
        assert!(
            share >= 0.999,
            "phantom {index}: only {share:.5} of pixels agree"
        );
        // A blank mask on both would agree perfectly and prove nothing.
        assert!(
            muscle > 1000,
            "phantom {index}: only {muscle} muscle pixels"
        );
    }
}
