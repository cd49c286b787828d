//! What each voxel is made of, the tissue label it carries, and its attenuation.

use super::Tissue;
use crate::rng::Rng;

/// A material of the phantom: finer than the tissue labels (bone marrow and cortex are
/// both "bone"), because each has its own attenuation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Material {
    Air,
    TableShell,
    TableFoam,
    Skin,
    Fascia,
    Sat,
    Vat,
    Imat,
    Muscle,
    Cortical,
    Cancellous,
    Disc,
    Csf,
    Artery,
    Vein,
    Liver,
    Spleen,
    Kidney,
    Urine,
    Pancreas,
    Bile,
    BowelWall,
    Gas,
    Fluid,
    Stool,
    Lung,
    Ascites,
    /// Arm muscle and fat: attenuation of the trunk's, but not the trunk.
    ArmMuscle,
    ArmFat,
}

const COUNT: usize = Material::ArmFat as usize + 1;

impl Material {
    pub fn tissue(self) -> Tissue {
        use Material::*;
        match self {
            Air | TableShell | TableFoam => Tissue::Background,
            Muscle => Tissue::SkeletalMuscle,
            Imat => Tissue::Imat,
            Vat => Tissue::Vat,
            Sat => Tissue::Sat,
            Cortical | Cancellous => Tissue::Bone,
            Gas | Fluid | Stool => Tissue::BowelLumen,
            Skin | Fascia | Disc | Csf | Artery | Vein | Liver | Spleen | Kidney | Urine
            | Pancreas | Bile | BowelWall | Lung | Ascites | ArmMuscle | ArmFat => Tissue::Other,
        }
    }
}

/// Mean attenuation and texture strength of every material for one phantom.
#[derive(Debug, Clone)]
pub(crate) struct Palette {
    mean: [f32; COUNT],
    /// Amplitude (HU) of the smooth texture laid over the mean: fat lobules, muscle
    /// fascicles, trabecular bone.
    texture: [f32; COUNT],
}

/// Inputs of the palette that are not drawn at random.
pub(crate) struct PaletteFacts {
    pub myosteatosis: f64,
    pub contrast: bool,
}

impl Palette {
    pub fn new(facts: &PaletteFacts, rng: &mut Rng) -> Palette {
        use Material::*;
        let c = facts.contrast;
        let pick = |plain: f64, enhanced: f64| if c { enhanced } else { plain };
        let mut mean = [0.0f32; COUNT];
        let mut texture = [2.0f32; COUNT];
        let mut set = |m: Material, hu: f64, tex: f64| {
            mean[m as usize] = hu as f32;
            texture[m as usize] = tex as f32;
        };
        // Values drawn in a fixed order, whatever the flags, so that a seed keeps its
        // anatomy when only the contrast or myosteatosis changes.
        let muscle = rng.range(40.0, 52.0) - 28.0 * facts.myosteatosis + pick(0.0, 8.0);
        let sat = rng.range(-112.0, -98.0);
        let vat = sat + rng.range(4.0, 14.0);
        let cancellous = rng.range(170.0, 280.0);
        let cortical = rng.range(650.0, 850.0);
        let liver = rng.range(45.0, 62.0);
        set(Air, -1000.0, 0.0);
        set(TableShell, 180.0, 0.0);
        set(TableFoam, -940.0, 0.0);
        set(Skin, 35.0, 3.0);
        set(Fascia, 30.0, 3.0);
        set(Sat, sat, 6.0);
        set(Vat, vat, 7.0);
        // Thin fat planes between muscles are never pure fat at CT resolution.
        set(Imat, sat + 25.0, 8.0);
        set(Muscle, muscle, 5.0);
        set(Cortical, cortical, 60.0);
        set(Cancellous, cancellous, 45.0);
        set(Disc, 80.0, 4.0);
        set(Csf, 8.0, 2.0);
        set(Artery, pick(42.0, 200.0), 2.0);
        set(Vein, pick(40.0, 160.0), 2.0);
        set(Liver, liver + pick(0.0, 50.0), 5.0);
        set(Spleen, pick(45.0, 115.0), 3.0);
        set(Kidney, pick(32.0, 165.0), 4.0);
        set(Urine, 8.0, 1.0);
        set(Pancreas, pick(40.0, 95.0), 6.0);
        set(Bile, 8.0, 1.0);
        set(BowelWall, pick(38.0, 85.0), 4.0);
        set(Gas, -990.0, 4.0);
        set(Fluid, 14.0, 3.0);
        set(Stool, -120.0, 0.0);
        set(Lung, -860.0, 25.0);
        set(Ascites, 10.0, 2.0);
        set(ArmMuscle, muscle, 5.0);
        set(ArmFat, sat, 6.0);
        Palette { mean, texture }
    }

    /// Attenuation of `material` where the texture field is `texture` (0..1) and the
    /// fine field (stool mottling) is `fine` (0..1).
    #[inline]
    pub fn hu(&self, material: Material, texture: f32, fine: f32) -> f32 {
        if material == Material::Stool {
            // Faeces: mottled soft tissue and fat with gas bubbles.
            return if fine > 0.72 {
                -850.0
            } else {
                -160.0 + 330.0 * fine
            };
        }
        let i = material as usize;
        self.mean[i] + self.texture[i] * (2.0 * texture - 1.0)
    }
}
