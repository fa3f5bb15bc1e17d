//! Which experiment a folder holds. Its `experiment.toml` names it; two files name the same
//! experiment when they agree on everything but the `[report]` table, which changes how the
//! numbers are reported and none of the numbers.
use toml::Table;

/// The experiment file's report-only table.
const REPORT_TABLE: &str = "report";

/// Whether the experiment files `old` and `new` describe the same runs: equal once the
/// `[report]` table is taken out of both. Text that is not TOML describes nothing.
pub(crate) fn same_runs(old: &str, new: &str) -> bool {
    match (runs_only(old), runs_only(new)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
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
}
