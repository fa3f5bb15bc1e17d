//! The defense behind every poison detector (k-distance, DAO, PatchSearch): it changes
//! nothing of pre-training itself and hands the pipeline its detector.
use crate::base::Defense;
use crate::detect::Detector;

/// Pre-training-set filtering by one detector.
pub(crate) struct DetectorFilter {
    name: &'static str,
    detector: Box<dyn Detector>,
}

impl DetectorFilter {
    /// The defense called `name` in tables, filtering by `detector`.
    pub(crate) fn new(name: &'static str, detector: Box<dyn Detector>) -> Self {
        Self { name, detector }
    }
}

impl Defense for DetectorFilter {
    fn name(&self) -> &'static str {
        self.name
    }

    fn detector(&self) -> Option<&dyn Detector> {
        Some(self.detector.as_ref())
    }
}
