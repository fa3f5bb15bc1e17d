//! The report's statistics on a tiny experiment, and the `[report]` table's place outside
//! an experiment's identity.
use super::{Record, opts, tiny};
use corruptencoder_experiment::*;

#[test]
fn report_settings_change_the_report_and_never_which_runs_a_folder_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("exp");
    let mut config = tiny();
    config.seeds = vec![0, 1];
    config.pretrain.monitor.every = 0;
    let rec = Record::default();
    let plain = run_experiment(&config, &opts(&out), &rec).unwrap();
    rec.take();
    let stats = plain.statistics.as_ref().unwrap();
    assert_eq!((stats.clean.as_deref(), stats.compare.as_deref()), (Some("clean"), None));
    assert_eq!(stats.asr_threshold, 50.0);
    // corruptencoder against clean, paired over both seeds.
    let [c] = &plain.comparisons[..] else { panic!("{:?}", plain.comparisons) };
    assert_eq!(
        (c.arm.as_str(), c.against.as_str(), c.asr.seeds.clone()),
        ("corruptencoder", "clean", vec![0, 1])
    );
    let asr = |arm: &str, seed: u64| {
        plain.runs.iter().find(|r| r.arm == arm && r.seed == seed).unwrap().asr
    };
    let expected =
        [asr("corruptencoder", 0) - asr("clean", 0), asr("corruptencoder", 1) - asr("clean", 1)];
    assert_eq!(c.asr.differences, expected);
    assert!(plain.summary.iter().all(|a| a.asr.n == 2 && a.asr.interval.is_some()));
    assert!(plain.summary.iter().all(|a| a.asr_passing.is_some_and(|p| p.seeds == 2)));

    // The same experiment with a [report] table: every run is reused, the report follows it.
    config.report.compare = Some("corruptencoder".into());
    config.report.asr_threshold = 0.0;
    let reported = run_experiment(&config, &opts(&out), &rec).unwrap();
    assert!(rec.take().iter().all(|e| e.ends_with("reused")), "nothing runs again");
    assert_eq!(reported.runs, plain.runs);
    assert_eq!(reported.statistics.as_ref().unwrap().compare.as_deref(), Some("corruptencoder"));
    assert!(reported.summary.iter().all(|a| a.asr_passing.unwrap().passing == 2), "ASR >= 0");
    let file = std::fs::read_to_string(out.join("experiment.toml")).unwrap();
    assert!(file.contains("[report]") && file.contains("compare = \"corruptencoder\""), "{file}");

    // And back without it: reused again, and the folder's file says so.
    config.report = Default::default();
    run_experiment(&config, &opts(&out), &rec).unwrap();
    assert!(rec.take().iter().all(|e| e.ends_with("reused")));
    assert_eq!(std::fs::read_to_string(out.join("experiment.toml")).unwrap(), config.to_toml());
    assert!(!config.to_toml().contains("[report]"));

    // A report naming an arm the experiment lacks is refused before anything runs.
    config.report.compare = Some("ssl-backdoor".into());
    let err = crate::anyhow_chain(run_experiment(&config, &opts(&out), &rec).unwrap_err());
    assert!(err.contains("report.compare = \"ssl-backdoor\": not an arm"), "{err}");
}
