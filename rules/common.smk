# Shared helpers: where the raw data live, which files each stage reads, and what each rule declares.
# What a rule runs and reads comes from one table, src/intelcap/workflow/registry.py.
import math
import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from intelcap.workflow import registry

SYNTHETIC = not config["raw_dir"]
RAW = config["synthetic_dir"] if SYNTHETIC else config["raw_dir"]
CSMAR_TABLES = list(config["csmar"])
ENV = "../envs/intelcap.yaml"
REPORTS = f"{RAW}/reports"

if SYNTHETIC:
    # before any job: Snakemake deletes a job's declared outputs before running it, and the generator must
    # never write into (or have Snakemake delete) a folder of the user's
    from intelcap.errors import InputError
    from intelcap.owned_dir import check_output_dir

    try:
        check_output_dir(RAW)
    except InputError as err:
        sys.exit(f"intelcap config error:\n  {err}")
N_SHARDS = int(config["text"]["shards"])
canonical = registry.canonical


def csmar_file(table):
    """The table's (first) file: what the synthetic generator writes and what a user's download is called."""
    name = config["csmar"][table]["file"]
    return f"{RAW}/csmar/{name[0] if isinstance(name, list) else name}"


def csmar_files(table):
    """Every file of a user's table (all formats, numbered parts; intelcap.ingest.files.table_files), or the synthetic
    file. A table with no file fails here, before any job, with the files that are there instead.
    """
    if SYNTHETIC:
        return [csmar_file(table)]
    from intelcap.ingest.files import table_files  # no pandas in Snakemake's process

    return [str(p) for p in table_files(f"{RAW}/csmar", config["csmar"][table], table)]


def ifr_file(key):
    return f"{RAW}/{config['ifr'][key]}"


def parquet_of(table):
    return f"results/data/csmar/{table}.parquet"


def code(rule):
    """Package modules run by the step (registry) as code inputs; editing any of them reruns the jobs.
    Paths are those of this workflow's own checkout, which every job imports (scripts/run_step.py).
    """
    base = os.path.relpath(WORKFLOW_DIR, os.getcwd())
    return registry.code_files(rule, root=base)


def declared(rule):
    """params.config of a rule: exactly the config keys its step reads, as sorted JSON (reordering YAML keys
    reruns nothing; changing a declared value reruns the rule). The job sees nothing else.
    """
    return lambda wildcards: canonical(
        registry.declared_config(rule, config, dict(wildcards.items()))
    )


def sources(*files):
    """A fingerprint (size, mtime in ns) of the files a user provides (raw files, mapping files), as a param:
    a file replaced by different content reruns its reader even when the copy is older (`cp -p`, unzip).
    Each argument is a path, a list of paths or a function of the wildcards (the same expression the rule
    gives as input). A function of wildcards only: Snakemake ignores params derived from `input` when it decides
    what to rerun. Synthetic raw files are outputs of this workflow, tracked by Snakemake itself, left out.
    """

    def fingerprint(wildcards):
        paths = []
        for f in files:
            f = f(wildcards) if callable(f) else f
            paths += [f] if isinstance(f, str) else list(f)
        if SYNTHETIC:
            paths = [f for f in paths if not Path(f).is_relative_to(RAW)]
        return registry.fingerprint(paths) if paths else ""

    return fingerprint


def check_table_files(wildcards):
    """The files of every table a user has (the data check reports a missing table with every other problem,
    instead of refusing before any job as read_table does), or the synthetic files."""
    if SYNTHETIC:
        return [csmar_file(t) for t in CSMAR_TABLES]
    from intelcap.ingest.files import present_table_files

    return present_table_files(f"{RAW}/csmar", config["csmar"])


CHECK_IFR_FILES = [
    f
    for f in (ifr_file("robots_file"), ifr_file("employment_file"))
    if SYNTHETIC or Path(f).exists()
]
PROVENANCE_RAW = [csmar_file(t) for t in CSMAR_TABLES] + [
    ifr_file("robots_file"),
    ifr_file("employment_file"),
]
PROVENANCE_CONFIG_FILES = [
    # the config files actually loaded (config/config.yaml and any --configfile overlay) and the schema
    *sorted({os.path.relpath(f) for f in workflow.configfiles}),
    os.path.relpath(WORKFLOW_DIR / "schemas/config.schema.yaml"),
    *config["paths"].values(),
]


# ---- annual reports: each shard holds every file of its firm-years (stable hash of Stkcd and year)
@lru_cache(maxsize=1)
def report_inventory():
    from intelcap.measures import text_inventory

    try:  # the step lists with the same pattern (steps/measures.py:text_extract)
        return text_inventory.shard_inventory(
            REPORTS, N_SHARDS, config["text"]["name_pattern"]
        )
    except ValueError as err:
        sys.exit(f"intelcap config error:\n  {err}")


def report_fingerprint(shard):
    """The files of one report shard, fingerprinted at DAG time: adding, removing or replacing a report
    reruns its shard only. Synthetic reports are an output of this workflow (tracked by Snakemake).
    """
    if SYNTHETIC:
        return ""
    from intelcap.measures import text_inventory

    return text_inventory.fingerprint(report_inventory()[shard])


def shard_fingerprint(wildcards):
    return report_fingerprint(int(wildcards.shard))


# Without annual reports (synth.reports: false, or no reports/ folder in raw_dir) there is no text index:
# Table 8 is left out up front instead of failing on an empty corpus.
TEXT_ENABLED = config["synth"]["reports"] if SYNTHETIC else Path(REPORTS).is_dir()
PAPER_TABLES = [
    "table1",
    "table2",
    "table3",
    "table4",
    "table5",
    "table6",
    "table7",
] + (["table8"] if TEXT_ENABLED else [])
REGRESSION_TABLES = ["table2", "table3", "table5"] + (
    ["table8"] if TEXT_ENABLED else []
)


def _say_up_front():
    """What this configuration leaves out or makes slow, said before any job runs."""
    import sys

    if not TEXT_ENABLED:
        why = "synth.reports is false" if SYNTHETIC else f"{REPORTS} does not exist"
        sys.stderr.write(
            f"intelcap: {why} -> no annual reports, so no text index and no Table 8 "
            "(left out of the DAG; everything else builds).\n"
        )
    elif SYNTHETIC and config["synth"]["n_firms"] > 100_000:
        n = config["synth"]["n_firms"] * (
            config["synth"]["last_year"] - config["sample"]["first_year"] + 1
        )
        # measured on the default panel: ~5.4 kB and ~1 ms of one core per synthetic report
        sys.stderr.write(
            f"intelcap: synth.reports with {config['synth']['n_firms']:,} firms writes ~{n:,} annual "
            f"reports (~{n * 5.4e3 / 1e9:,.0f} GB, ~{n / 1e3 / 60:,.0f} min in one job) before Table 8 "
            "can run; set synth.reports: false to leave Table 8 out (profiles/large does).\n"
        )


_say_up_front()

TABLE_FORMATS = ("csv", "md", "tex", "docx", "html")

# xelatex on PATH when the DAG is built: `all` then also compiles results/paper/tables.pdf (rule tables_pdf).
# Without it the PDF is left out of `all` (said up front); asked for by name, its job fails naming the Debian
# packages to install (tools/install_system_deps.sh).
XELATEX = shutil.which("xelatex")
if not XELATEX:
    sys.stderr.write(
        "intelcap: xelatex not found -> results/paper/tables.pdf left out of `all` (install texlive-xetex "
        "texlive-latex-recommended texlive-latex-extra texlive-lang-chinese: tools/install_system_deps.sh).\n"
    )


def paper_targets():
    """The compiled tables (results/paper/tables.pdf) when xelatex is available, else nothing."""
    return ["results/paper/tables.pdf"] if XELATEX else []


# (compare_with_paper writes the comparison's Markdown)
FRAME_TABLES = [
    "sample_attrition",
    "table6_differences",
    "coverage",
    "placebo",
    "one_step_sfa",
]


def all_targets():
    tables = [
        f"results/tables/{t}.{fmt}" for t in PAPER_TABLES for fmt in TABLE_FORMATS
    ]
    return tables + [
        "results/tables/sample_attrition.csv",
        "results/tables/sample_attrition.md",
        "results/tables/table6_differences.csv",
        "results/tables/table6_differences.md",
        "results/tables/paper_vs_replication.csv",
        "results/tables/paper_vs_replication.md",
        "results/tables/claims.csv",
        "results/tables/claims.md",
        "results/figures/figure1.png",
        "results/figures/rulegraph.png",
        "results/figures/figure2.png",
        "results/figures/coefplot_table6.png",
        "results/manifest.json",
        *(
            [
                "results/tables/text_coverage.csv",
                "results/tables/text_coverage.md",
                *TEXT_AUDIT_TARGETS,
            ]
            if TEXT_ENABLED
            else []
        ),
        *paper_targets(),
    ]


# the text audit and Table 8 variants (docs/methods.md#text-audit): only with annual reports
TEXT_AUDIT_TARGETS = [
    *[f"results/tables/table8_variants.{fmt}" for fmt in TABLE_FORMATS],
    "results/tables/text_audit_keywords.csv",
    "results/tables/text_audit_keywords.md",
    "results/figures/text_audit.png",
    "results/figures/text_audit.pdf",
]


# The HTML report (`snakemake --report`) groups outputs as the paper does: category = paper section,
# subcategory = the table or figure; each table's rendered page and its full-precision CSV sit together.
REPORT_SECTIONS = {
    "figure1": ("2 Literature and hypotheses", "Figure 1 Research framework"),
    "figure2": ("3 Research design", "Figure 2 Global robot installations"),
    "table1": ("3 Research design", "Table 1 Descriptive statistics"),
    "table2": ("4 Empirical analysis", "Table 2 Baseline regressions"),
    "table3": ("4 Empirical analysis", "Table 3 Robustness checks"),
    "table4": ("4 Empirical analysis", "Table 4 2SLS"),
    "table5": ("5 Mechanism analysis", "Table 5 Mechanism tests"),
    "table6": ("6 Heterogeneity analysis", "Table 6 Heterogeneity"),
    "coefplot_table6": ("6 Heterogeneity analysis", "Table 6 Heterogeneity"),
    "table7": ("7 Further analysis", "Table 7 Keyword dictionary"),
    "table8": ("7 Further analysis", "Table 8 Text-based index"),
    "inference": ("Robustness", "Inference"),
}


def _report_group(pattern, which, default=None):
    """Category (which=0) or subcategory (1) of an output named by ``pattern`` (may hold wildcards)."""

    def group(wildcards):
        name = pattern.format(**dict(wildcards.items()))
        entry = REPORT_SECTIONS.get(name)
        return entry[which] if entry else default

    return group


def result_csv(name, caption=None, category=None):
    """A table's full-precision CSV, in the HTML report with its caption, next to its rendered table."""
    return report(
        f"results/tables/{name}.csv",
        caption=f"../report/{caption or name}.rst",
        category=category or _report_group(name, 0, "Tables"),
        subcategory=_report_group(name, 1),
    )


def rendered_table(name):
    """A table's HTML rendering (outputs.html, the grid of md/tex/docx), in the report under its section."""
    return report(
        f"results/tables/{name}.html",
        caption="../report/rendered_table.rst",
        category=_report_group(name, 0, "Tables"),
        subcategory=_report_group(name, 1),
    )


def report_figure(name, caption=None):
    """A figure's PNG in the report, with its caption, under its paper section."""
    return report(
        f"results/figures/{name}.png",
        caption=f"../report/{caption or name}.rst",
        category=_report_group(name, 0, "Figures"),
        subcategory=_report_group(name, 1),
    )


# ---- robustness stage (rules/robustness.smk)
ROB = config["robustness"]
ROB_MC = ROB["monte_carlo"]
ROB_PLACEBO = ROB["placebo"]
ROB_SPEC = ROB["spec_curve"]


def rob_n_shards(total, size):
    return max(1, math.ceil(int(total) / int(size)))


def mc_shard_files():
    n = rob_n_shards(ROB_MC["reps"], ROB_MC["shard_size"])
    return [
        f"results/robustness/mc/{s}/shard_{i}.parquet"
        for s in ROB_MC["scenarios"]
        for i in range(n)
    ]


def placebo_shard_files():
    n = rob_n_shards(ROB_PLACEBO["reps"], ROB_PLACEBO["shard_size"])
    return [
        f"results/robustness/placebo/{m}_{i}.parquet"
        for m in ROB_PLACEBO["modes"]
        for i in range(n)
    ]


def spec_shard_files():
    return [
        f"results/robustness/spec_curve/{c}_{w}.parquet"
        for c in ROB_SPEC["cu"]
        for w in ROB_SPEC["winsor"]
    ]


def robustness_targets():
    """Every output of the robustness stage (`snakemake robustness`)."""
    return (
        [f"results/tables/inference.{f}" for f in TABLE_FORMATS]
        + ["results/tables/coverage.csv", "results/tables/coverage.md"]
        + [f"results/figures/coverage.{f}" for f in ("png", "pdf")]
        + [
            "results/robustness/placebo.csv",
            "results/tables/placebo.csv",
            "results/tables/placebo.md",
        ]
        + [
            f"results/figures/placebo_{m}.{f}"
            for m in ROB_PLACEBO["modes"]
            for f in ("png", "pdf")
        ]
        + ["results/robustness/spec_curve.csv"]
        + [f"results/figures/spec_curve.{f}" for f in ("png", "pdf")]
        + ["results/tables/one_step_sfa.csv", "results/tables/one_step_sfa.md"]
    )


def params_hashed_as_text():
    """Snakemake's params rerun trigger serialises each param with a function that imports pandas first, to
    hash DataFrame params (~0.2 s of every `snakemake` start, no-op runs included). Every param of this
    workflow is text (canonical JSON of the declared config keys, file fingerprints), for which that function
    returns what the builtin serialiser returns: the builtin one is used, and the stored params are unchanged.
    Left as it is when Snakemake has no such pair of methods (tests/test_snakemake_start.py notices).
    """
    from snakemake.persistence import PersistenceBase as Persistence

    if hasattr(Persistence, "_serialize_param_builtin") and isinstance(
        Persistence.__dict__.get("_serialize_param"), property
    ):
        Persistence._serialize_param = property(
            lambda self: self._serialize_param_builtin
        )


params_hashed_as_text()


def job_preambles_without_pandas():
    """Before it writes a `script:` job's preamble, Snakemake imports pandas, numpy and polars in its own process
    only to ask whether a param is one of their frames or arrays: ~0.25 s at the first job of every run, which
    starts that much later (the imports hold the interpreter lock). A param can only be such an object if its
    package is already imported, so for that call the packages not yet imported are refused (None in
    sys.modules), which the method takes as "not installed"; the stored params are the same. Left as it is
    when Snakemake has no such method (tests/test_snakemake_start.py notices).
    """
    from snakemake.iocontainers import Snakemake as ScriptJob

    store = ScriptJob.__dict__.get("_safely_store_params")
    if store is None or getattr(store, "without_imports", False):
        return

    def store_params(self, params):
        refused = [m for m in ("pandas", "numpy", "polars") if m not in sys.modules]
        for name in refused:
            sys.modules[name] = None
        try:
            store(self, params)
        except ImportError:
            # a Snakemake that needs one of them outright: its own way, with the imports
            for name in refused:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]
            store(self, params)
        finally:
            for name in refused:
                if sys.modules.get(name, False) is None:
                    del sys.modules[name]

    store_params.without_imports = True
    ScriptJob._safely_store_params = store_params


job_preambles_without_pandas()


def end_of_run():
    """What lets Snakemake's own process exit at once when the run is over (onsuccess / onerror).

    * The job-rate limiter (--max-jobs-per-timespan, default 100/1s) starts a non-daemon 1-second
      threading.Timer after each scheduling round, and the interpreter waits for the last one before it
      exits: ~1 s added to every run that started a job. After the last job nothing is left to schedule,
      so the pending timers are cancelled.
    * The interpreter's final garbage collection walks every object of the DAG and of the imported
      packages: ~0.4 s. Frozen, they are left to the operating system.
    """
    import gc
    import threading

    gc.freeze()
    for t in threading.enumerate():
        fn = getattr(t, "function", None)
        if isinstance(t, threading.Timer) and "_schedule_reevalutation" in getattr(
            fn, "__qualname__", ""
        ):
            t.cancel()
