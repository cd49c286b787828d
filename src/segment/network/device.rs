//! Choosing where the network runs, natively: a GPU through wgpu (Vulkan, Metal, DX12)
//! when one answers, else the pure-Rust CPU backend. The browser makes the same choice
//! with WebGPU in its worker.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Preference {
    /// A GPU when one is found, else the CPU.
    #[default]
    Auto,
    Cpu,
    /// A GPU or an error.
    Gpu,
}

/// A GPU was asked for and none could be used; `why` says what was found instead.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("no GPU could be used: {why}")]
pub struct NoGpu {
    pub why: String,
}

/// The device and a name for it, as reports show it.
pub fn choose(preference: Preference) -> Result<(Device, String), NoGpu> {
    if preference == Preference::Cpu {
        return Ok((Device::flex(), "CPU (Burn flex)".into()));
    }
    let why = match gpu() {
        Ok(found) => return Ok(found),
        Err(why) => why,
    };
    if preference == Preference::Gpu {
        return Err(NoGpu { why });
    }
    Ok((Device::flex(), format!("CPU (Burn flex; no GPU: {why})")))
}

/// A hardware GPU through wgpu, or why there is none.
#[cfg(feature = "gpu")]
fn gpu() -> Result<(Device, String), String> {
    use burn::tensor::wgpu::wgpu::DeviceType;
    // Adapter discovery lives in driver code; a broken driver must not take the
    // command down with it.
    match std::panic::catch_unwind(|| Device::wgpu_options().init_with_setup()) {
        Ok(Ok((device, setup))) => {
            let info = setup.adapter.get_info();
            // A software rasteriser (llvmpipe, SwiftShader) is a slower CPU backend.
            if info.device_type == DeviceType::Cpu {
                return Err(format!(
                    "the only graphics adapter, {}, is a software renderer",
                    info.name
                ));
            }
            Ok((
                device,
                format!("GPU {} (Burn wgpu, {:?})", info.name, info.backend),
            ))
        }
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("the graphics driver failed".into()),
    }
}

#[cfg(not(feature = "gpu"))]
fn gpu() -> Result<(Device, String), String> {
    Err("this program was built without GPU support (the `gpu` feature)".into())
}
