//! The command line of CLI.md: global options, one module per subcommand, and the mapping of
//! errors to exit codes (0 success, 1 data or definition wrong, 2 usage, 3 internal or I/O).

mod abc_xyz;
mod affinity;
mod arpu;
#[cfg(feature = "distributed")]
mod cluster;
mod clv;
mod customer_by;
mod forecast;
mod funnel;
mod funnel_events;
mod funnel_pipeline;
mod generate;
mod import;
mod logging;
mod managers;
mod marketing;
mod range;
mod report;
mod retention;
mod run;
mod sales;
mod schema;
mod segment;
mod service;
mod sql;
mod validate;
mod value;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::NaiveDate;
use clap::{Parser, Subcommand};
use datafusion::dataframe::DataFrame;

use crate::config::Config;
use crate::engine::depth::STACK_SIZE;
use crate::hint::closest;
use crate::output::{Format, OutputOptions};
use crate::{Error, Result};

/// crmlens: segments, customer value, funnels and reports over Parquet CRM exports.
#[derive(Debug, Parser)]
#[command(name = "crmlens", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  crmlens generate --out /tmp/crm --customers 10000 --seed 7
  crmlens validate --dataset datasets/demo
  crmlens sql --dataset datasets/demo \"select country, count(*) from customers group by 1\"
  crmlens rfm --dataset datasets/demo --scope manager=M001
  crmlens schema --format json";

/// Options every command takes.
#[derive(Debug, clap::Args)]
pub struct GlobalArgs {
    /// Configuration TOML [default: ./crmlens.toml if present, else built-in defaults]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Dataset directory (overrides the configuration)
    #[arg(long, global = true, value_name = "DIR")]
    pub dataset: Option<PathBuf>,
    /// Analysis date YYYY-MM-DD [default: latest order date in the data, not after today]
    #[arg(long, global = true, value_name = "DATE", value_parser = crate::config::parse_date)]
    pub as_of: Option<NaiveDate>,
    /// Output format for result tables [default: table on a terminal, csv when piped]
    #[arg(long, global = true, value_enum)]
    pub format: Option<Format>,
    /// Write the result to FILE (atomically) instead of stdout
    #[arg(long, global = true, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Row-level scope: manager=ID[,ID…] or department=NAME; every table is limited to the
    /// rows that scope may see (its customers and their rows), e.g. --scope manager=M001
    #[arg(long, global = true, value_name = "KEY=VALUE")]
    pub scope: Option<String>,
    /// Where queries run: df://HOST:PORT for a Ballista cluster's scheduler, or standalone
    /// (a scheduler and executor in this process) [default: this process; overrides [engine]
    /// url] (needs a build with the `distributed` feature)
    #[arg(long, global = true, value_name = "URL")]
    pub engine: Option<String>,
    /// Less log output (errors only)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// More log output (-v info, -vv debug)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a deterministic synthetic CRM dataset (every table of the schema)
    Generate(generate::Args),
    /// Print the canonical tables and columns of the dataset contract
    Schema(schema::Args),
    /// Check a dataset against the contract; exit code 1 when there are errors
    Validate(validate::Args),
    /// Run SQL over the dataset's tables
    Sql(sql::Args),
    /// The nightly job: validate, then write the results of queries/nightly/*.sql
    Run(run::Args),
    /// The per-customer feature view (customer_features)
    Features(value::FeaturesArgs),
    /// RFM scores and segments, the segment summary or the R×F grid
    Rfm(value::RfmArgs),
    /// ABC / XYZ classes of customers or products
    #[command(name = "abc-xyz")]
    AbcXyz(abc_xyz::Args),
    /// Monthly churn series: active at start, churned, new, reactivated, churn rate
    Churn(retention::ChurnArgs),
    /// ARPU and the customer base by month: customers, active, new, returning, revenue per
    /// customer, by region, country, kind, source, channel or segment
    Arpu(arpu::Args),
    /// Product affinity: category or product association rules (support, confidence,
    /// lift) over baskets or customers, and the next best category per customer
    Affinity(affinity::Args),
    /// Monthly first-purchase cohorts: retention by customers or revenue
    Cohorts(retention::CohortsArgs),
    /// CLV models: fit, predict, evaluate against a holdout period
    Clv(clv::Args),
    /// Funnels: the deal pipeline from stage history, or event funnels (window_funnel)
    #[command(subcommand)]
    Funnel(funnel::Command),
    /// Manager KPIs: activity, active customers, deals, win rate, revenue, lead response
    Managers(managers::ManagersArgs),
    /// Plan vs actual by month and manager, department or product category
    Plan(managers::PlanArgs),
    /// Weighted open pipeline per expected close month, with the learned stage probabilities
    Forecast(forecast::Args),
    /// Campaign effectiveness: response, conversion, revenue per member, uplift, ROI
    Campaigns(marketing::CampaignsArgs),
    /// Lead-source effectiveness: leads, deals, wins, revenue, step conversions
    Sources(marketing::SourcesArgs),
    /// Sales diagnostics: lost reasons, revenue by channel, call durations, lead SLA misses,
    /// managers who left with customers
    #[command(subcommand)]
    Sales(sales::Command),
    /// Service: tickets by kind and month, time to close; survey scores
    Service(service::Args),
    /// Segments: validate, run (dated snapshots and diffs), list, show, diff, export
    #[command(subcommand)]
    Segment(segment::Command),
    /// Reports with charts: list, run (self-contained HTML, Markdown, SVG and PNG charts)
    #[command(subcommand)]
    Report(report::Command),
    /// Import raw CRM exports (CSV, Excel, JSON lines) into the canonical dataset
    Import(import::Args),
    /// Start a Ballista scheduler with crmlens's SQL functions (clients use --engine)
    #[cfg(feature = "distributed")]
    Scheduler(cluster::SchedulerArgs),
    /// Start a Ballista executor with crmlens's SQL functions
    #[cfg(feature = "distributed")]
    Executor(cluster::ExecutorArgs),
    #[command(external_subcommand)]
    Other(Vec<String>),
}

/// Commands of CLI.md that later capabilities build; until then they say so.
const PLANNED: &[(&str, &str)] = &[];

impl GlobalArgs {
    /// The configuration with the command-line overrides applied.
    pub fn config(&self) -> Result<Config> {
        let mut config = Config::discover(self.config.as_deref())?;
        if let Some(d) = &self.dataset {
            config.dataset = Some(d.clone());
        }
        if let Some(d) = self.as_of {
            config.as_of = Some(d);
        }
        if let Some(scope) = &self.scope {
            config.scope = Some(scope.parse()?);
        }
        if let Some(url) = &self.engine {
            config.engine.url = Some(
                url.parse()
                    .map_err(|e| Error::Usage(format!("--engine {e}")))?,
            );
        }
        Ok(config)
    }

    /// Output options for a result table: a file's name and the format agree
    /// ([`Format::for_output`]), and no file is written into the dataset's folder.
    pub fn output(&self, max_rows: usize) -> Result<OutputOptions> {
        let format = match &self.output {
            Some(path) => {
                self.refuse_inside_dataset(path, "--output")?;
                Format::for_output(self.format, path)?
            }
            None => Format::resolve(self.format),
        };
        Ok(OutputOptions {
            format,
            output: self.output.clone(),
            max_rows,
        })
    }

    /// Refuses `path` (given with `flag`) when it is inside the configured dataset's folder.
    pub fn refuse_inside_dataset(&self, path: &std::path::Path, flag: &str) -> Result<()> {
        match self.config().ok().and_then(|c| c.dataset) {
            Some(root) => crate::dataset::discover::refuse_inside(&root, path, flag),
            None => Ok(()),
        }
    }
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.global.quiet, cli.global.verbose);
    // Queries are planned on the command's thread: it gets the large stack deep expressions
    // need (see engine::depth), as the runtime's workers do.
    let command = std::thread::Builder::new()
        .name("crmlens".into())
        .stack_size(STACK_SIZE)
        .spawn(move || run(cli));
    let result = match command {
        Ok(handle) => handle
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(e) => Err(Error::io("<thread>", e)),
    };
    crate::engine::remove_spill_folders();
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => report_error(&e),
    }
}

fn report_error(e: &Error) -> ExitCode {
    if is_broken_pipe(e) {
        // `crmlens sql … | head`: the reader has what it wanted.
        return ExitCode::SUCCESS;
    }
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let text = s.to_string();
        if !message.contains(&text) {
            message.push_str(&format!(": {text}"));
        }
        source = s.source();
    }
    eprintln!("crmlens: error: {message}");
    ExitCode::from(e.exit_code())
}

fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Runs one parsed command line; `Ok` carries the exit code (validation can fail with 1).
pub fn run(cli: Cli) -> Result<u8> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.enable_all();
    // Evaluating an expression recurses once per level (a 10,000-term `OR` chain overflowed
    // the default 2 MB), and so does Ballista's plan (de)serialisation (customer_features
    // overflowed 2 MB; Ballista's own binaries use 32 MB).
    builder.thread_stack_size(STACK_SIZE);
    let runtime = builder
        .build()
        .map_err(|e| Error::io("<tokio runtime>", e))?;
    if let Some(url) = &cli.global.engine
        && let Some(name) = local_only(&cli.command)
    {
        return Err(Error::Cluster(format!(
            "--engine {url}: `crmlens {name}` runs on this machine only (it reads and writes \
             local files, no query runs); leave out --engine"
        )));
    }
    #[cfg(feature = "distributed")]
    let cli = {
        let mut cli = cli;
        if !matches!(cli.command, Command::Scheduler(_) | Command::Executor(_)) {
            runtime.block_on(cluster::start_standalone_if_asked(&mut cli.global))?;
        }
        cli
    };
    // `--output`'s name and format are checked before any work (import's --output takes a
    // mapping or the summary, not a result table).
    if !matches!(cli.command, Command::Import(_)) {
        cli.global.output(0)?;
    }
    match cli.command {
        Command::Generate(args) => generate::run(&cli.global, args),
        Command::Schema(args) => schema::run(&cli.global, args),
        Command::Validate(args) => runtime.block_on(validate::run(&cli.global, args)),
        Command::Sql(args) => runtime.block_on(sql::run(&cli.global, args)),
        Command::Run(args) => runtime.block_on(run::run(&cli.global, args)),
        Command::Features(args) => runtime.block_on(value::features(&cli.global, args)),
        Command::Rfm(args) => runtime.block_on(value::rfm(&cli.global, args)),
        Command::AbcXyz(args) => runtime.block_on(abc_xyz::run(&cli.global, args)),
        Command::Churn(args) => runtime.block_on(retention::churn(&cli.global, args)),
        Command::Cohorts(args) => runtime.block_on(retention::cohorts(&cli.global, args)),
        Command::Arpu(args) => runtime.block_on(arpu::run(&cli.global, args)),
        Command::Affinity(args) => runtime.block_on(affinity::run(&cli.global, args)),
        Command::Clv(args) => runtime.block_on(clv::run(&cli.global, args)),
        Command::Funnel(command) => runtime.block_on(funnel::run(&cli.global, command)),
        Command::Managers(args) => runtime.block_on(managers::managers(&cli.global, args)),
        Command::Plan(args) => runtime.block_on(managers::plan(&cli.global, args)),
        Command::Forecast(args) => runtime.block_on(forecast::run(&cli.global, args)),
        Command::Campaigns(args) => runtime.block_on(marketing::campaigns(&cli.global, args)),
        Command::Sources(args) => runtime.block_on(marketing::sources(&cli.global, args)),
        Command::Sales(command) => runtime.block_on(sales::run(&cli.global, command)),
        Command::Service(args) => runtime.block_on(service::run(&cli.global, args)),
        Command::Segment(command) => runtime.block_on(segment::run(&cli.global, command)),
        Command::Report(command) => runtime.block_on(report::run(&cli.global, command)),
        Command::Import(args) => import::run(&cli.global, args),
        #[cfg(feature = "distributed")]
        Command::Scheduler(args) => runtime.block_on(cluster::scheduler(&cli.global, args)),
        #[cfg(feature = "distributed")]
        Command::Executor(args) => runtime.block_on(cluster::executor(&cli.global, args)),
        Command::Other(words) => Err(unknown_command(&words)),
    }
}

/// The commands that never run a query, so a cluster has nothing to do for them.
fn local_only(command: &Command) -> Option<&'static str> {
    match command {
        Command::Generate(_) => Some("generate"),
        Command::Schema(_) => Some("schema"),
        Command::Import(_) => Some("import"),
        _ => None,
    }
}

fn unknown_command(words: &[String]) -> Error {
    let name = words.first().map(String::as_str).unwrap_or_default();
    #[cfg(not(feature = "distributed"))]
    if matches!(name, "scheduler" | "executor") {
        return crate::engine::remote::not_built(&format!("`crmlens {name}`"));
    }
    if let Some((_, what)) = PLANNED.iter().find(|(n, _)| *n == name) {
        return Error::NotSupported(format!(
            "`crmlens {name}` ({what}) is not built yet in this version"
        ));
    }
    // The commands this build has, as clap knows them (so a new command is suggested without
    // a second list to keep in step).
    let command = <Cli as clap::CommandFactory>::command();
    let known: Vec<&str> = command.get_subcommands().map(|c| c.get_name()).collect();
    let all = known.iter().copied().chain(PLANNED.iter().map(|(n, _)| *n));
    match closest(name, all) {
        Some(best) => Error::Usage(format!(
            "unknown command `{name}`, did you mean `{best}`? (see crmlens --help)"
        )),
        None => Error::Usage(format!("unknown command `{name}` (see crmlens --help)")),
    }
}

/// Whether progress bars make sense (stderr is a terminal and not quiet).
pub fn interactive(global: &GlobalArgs) -> bool {
    !global.quiet && std::io::stderr().is_terminal()
}

/// Opens the configured dataset.
pub async fn open(global: &GlobalArgs) -> Result<crate::engine::Engine> {
    crate::engine::Engine::open(&global.config()?).await
}

/// Writes one result table with the global output options: the end of every command that
/// prints one.
pub async fn write(global: &GlobalArgs, max_rows: usize, df: DataFrame) -> Result<u8> {
    write_to(df, &global.output(max_rows)?).await
}

/// Writes one result table with `output`, logging where a file went.
pub async fn write_to(df: DataFrame, output: &OutputOptions) -> Result<u8> {
    let rows = crate::output::write_dataframe(df, output).await?;
    if let Some(path) = &output.output {
        log::info!("wrote {rows} rows to {}", path.display());
    }
    Ok(0)
}
