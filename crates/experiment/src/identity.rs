//! Which experiment a folder holds. Its `experiment.toml` names it; a new file names the
//! same experiment when it agrees with the folder's on everything but the `[report]` table,
//! which changes how the numbers are reported and none of the numbers, and the arms it adds
//! after the folder's: every run the folder holds is then a run of the new file, so the
//! finished ones are kept and only the new arms run. The folder's file was written by this
//! version or an earlier one, so its method tables are first brought to today's reading
//! (`MethodConfig::upgrade_stored`): a setting added since compares as what was run.
use corruptencoder_train::MethodConfig;
use toml::Table;

/// The experiment file's report-only table.
const REPORT_TABLE: &str = "report";

/// The experiment file's list of arms.
const ARMS: &str = "arms";

/// Whether the experiment file `new` extends `old`, the folder's: equal once the `[report]`
/// table is taken out of both and `old` is upgraded, except that `new` may list more arms
/// after `old`'s. Text that is not TOML describes nothing.
pub(crate) fn same_runs(old: &str, new: &str) -> bool {
    let (Some(mut old), Some(mut new)) = (runs_only(old), runs_only(new)) else { return false };
    MethodConfig::upgrade_stored(&mut old);
    let (old_arms, new_arms) = (old.remove(ARMS), new.remove(ARMS));
    let arms_kept = match (old_arms, new_arms) {
        (Some(toml::Value::Array(a)), Some(toml::Value::Array(b))) => b.starts_with(&a),
        (a, b) => a == b,
    };
    old == new && arms_kept
}

fn runs_only(text: &str) -> Option<Table> {
    let mut table: Table = toml::from_str(text).ok()?;
    table.remove(REPORT_TABLE);
    Some(table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ExperimentConfig;

    #[test]
    fn the_report_table_does_not_change_which_experiment_a_file_names() {
        let mut config = ExperimentConfig::demo();
        let plain = config.to_toml();
        assert!(!plain.contains("[report]"), "a default [report] is not written:\n{plain}");
        config.report.compare = Some("ssl-backdoor".into());
        config.report.asr_threshold = 30.0;
        let reported = config.to_toml();
        assert!(reported.contains("[report]") && reported.contains("asr_threshold = 30.0"));
        assert!(same_runs(&plain, &reported) && same_runs(&reported, &plain));
        assert!(same_runs(&plain, &plain));
        config.pretrain.epochs += 1;
        assert!(!same_runs(&plain, &config.to_toml()) && !same_runs(&reported, &config.to_toml()));
        assert!(!same_runs("not = [toml", &plain));
    }

    #[test]
    fn a_folder_written_before_split_bn_holds_the_runs_of_a_file_naming_passes() {
        use corruptencoder_train::{MethodConfig, SplitBn};
        let mut config = ExperimentConfig::demo();
        let today = config.to_toml();
        let MethodConfig::MocoV2(moco) = &mut config.pretrain.method else { panic!("MoCo") };
        assert_eq!(moco.split_bn, SplitBn::BatchNorm, "today's default");
        moco.split_bn = SplitBn::Passes;
        let passes = config.to_toml();
        let line = "split_bn = \"passes\"\n";
        assert!(passes.contains(line), "{passes}");
        let old = passes.replace(line, "");
        assert!(same_runs(&old, &passes), "what the old folder ran");
        assert!(!same_runs(&old, &today), "today's default is another run");
        assert!(same_runs(&today, &today) && !same_runs(&passes, &today));
    }

    #[test]
    fn arms_added_after_the_folders_extend_it_and_no_other_change_does() {
        let config = ExperimentConfig::demo();
        let old = config.to_toml();
        let mut more = config.clone();
        more.arms.push(config.arms[1].clone());
        more.arms.last_mut().unwrap().name = "again".into();
        assert!(same_runs(&old, &more.to_toml()), "an arm appended");
        assert!(!same_runs(&more.to_toml(), &old), "an arm dropped");
        let mut reordered = config.clone();
        reordered.arms.swap(0, 1);
        assert!(!same_runs(&old, &reordered.to_toml()), "arms reordered");
        let mut changed = more.clone();
        changed.arms[0].name = "renamed".into();
        assert!(!same_runs(&old, &changed.to_toml()), "a kept arm changed");
    }
}
