//! `cargo xtask verify`: proves the runs complete and consistent (counts,
//! pair overlap, difficulty) and names every problem with its file.
//!
//! The checks are `study::verify` (pure: what `edges::logs` read in, a
//! `Report` out); the reading is `engine::verify`; this file is the flags,
//! the order, and the printing.

use crate::edges::experiment::CommonFlags;
use crate::engine::verify::load_and_check_leaving_out;
use crate::study::changed::Pairs;
use crate::study::outcome::EvalErrors;
use crate::study::verify::render::render_text;

#[derive(Debug, Clone, clap::Args)]
pub struct VerifyFlags {
    #[command(flatten)]
    pub common: CommonFlags,
    /// Runs to check [default: the baseline, the seeds and the coop runs]
    #[arg(long, value_delimiter = ',', value_name = "A,B,..")]
    pub runs: Option<Vec<String>>,
    /// Print the report as JSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Warnings fail too
    #[arg(long)]
    pub strict: bool,
    /// How eval errors count for difficulty
    #[arg(long, value_enum, default_value_t = EvalErrors::Exclude)]
    pub eval_errors: EvalErrors,
    /// Refuse result.json and eval.json files larger than this
    #[arg(long, value_name = "MiB", default_value_t = crate::edges::logs::DEFAULT_MAX_FILE_BYTES >> 20)]
    pub max_file_mib: u64,
    /// Leave out the pairs whose gold patch fails in `cargo xtask oracle` (named in the output)
    #[arg(long)]
    pub exclude_oracle_failures: bool,
    /// Which pairs count: all, or only those no difficulty run saw with
    /// other dataset files or another task image (the rest named and left out)
    #[arg(long, value_enum, default_value_t = Pairs::All)]
    pub pairs: Pairs,
}

pub fn run(flags: VerifyFlags, ctx: &crate::Context) -> anyhow::Result<i32> {
    let exp = flags.common.load(&ctx.root)?;
    let runs = match &flags.runs {
        Some(r) => r.clone(),
        None => {
            let mut r = exp.solo_runs();
            r.extend(exp.coop_runs());
            r
        }
    };
    let max_bytes =
        flags.max_file_mib.checked_mul(1 << 20).filter(|b| *b > 0).ok_or_else(|| {
            crate::usage(anyhow::anyhow!("--max-file-mib: {} is not a size in MiB", flags.max_file_mib))
        })?;
    let oracle_base = exp.oracle_base();
    let report = load_and_check_leaving_out(
        &exp.cooperbench_dir,
        &exp.subset,
        &runs,
        flags.eval_errors,
        flags.strict,
        max_bytes,
        &exp.allow_mixed,
        &exp.models(),
        flags.exclude_oracle_failures.then_some(oracle_base.as_str()),
        flags.pairs,
    )?;
    // An Error's message can echo a key: scrubbed of the study's secrets
    // (and of every secret-looking variable set), also when seeds is not running.
    let secrets = crate::edges::secrets::Secrets::load(&exp.cooperbench_dir, &exp.secret_names());
    if let Some(note) = secrets.pattern_note() {
        eprintln!("note: {note}");
    }
    if flags.json {
        println!("{}", secrets.redact(&serde_json::to_string_pretty(&report)?));
    } else {
        print!("{}", secrets.redact(&render_text(&report)));
    }
    Ok(if report.ok { 0 } else { 1 })
}
