"""The bench report builder on synthetic module outputs: figures, goals, tables, README block."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import psutil
import pytest

from bench.figures import figures
from bench.procstats import GENERATOR, Sampler, role_of, url_port
from bench.report import MODULES, ROOT, module_args, parse
from bench.summary import (
    README_END,
    README_START,
    build,
    markdown,
    sizes,
    with_readme_block,
)


def ingest_output(p99_at_1000: float = 9.0, errors_at_4000: int = 0) -> dict[str, Any]:
    def row(rate: float, achieved: float, p99: float, errors: int = 0) -> dict[str, float]:
        return {
            "rate": rate,
            "achieved_per_s": achieved,
            "p50_ms": 2.0,
            "p99_ms": p99,
            "p999_ms": p99 * 2,
            "errors": errors,
            "bare_achieved_per_s": rate,
            "bare_p99_ms": 1.5,
        }

    rows = [row(1000.0, 1000.0, p99_at_1000), row(4000.0, 3400.0, 80.0, errors_at_4000)]
    return {"rows": rows, "kafka_ceiling_webhooks_per_s": 6800.0}


def customers_output(lookup_p99: float) -> dict[str, Any]:
    return {
        "bare_http": {"per_s": 2000.0, "p50_ms": 0.4, "p99_ms": 1.0},
        "lookup": {"per_s": 800.0, "p50_ms": 1.1, "p99_ms": lookup_p99},
        "lookup_concurrent": {"per_s": 1500.0, "p50_ms": 9.0, "p99_ms": 20.0},
        "bare_http_concurrent": {"per_s": 3000.0, "p50_ms": 4.0, "p99_ms": 8.0},
        "import": {"per_s": 4000.0},
        "raw_store_insert": {"per_s": 8000.0},
    }


def live_output(rate: float, live_rates: tuple[float, ...] = ()) -> dict[str, Any]:
    row = {"rate": rate, "delivered": 1.0, "p50_ms": 20.0, "p99_ms": 60.0}
    live = [row | {"rate": r, "p99_ms": r / 10} for r in live_rates or (rate,)]
    writes = {"messages_per_s": 20.0, "raw_upserts_per_s": 150.0, "writes_per_message": 3.0}
    floors = {"kafka_hop": {"p99_ms": 8.0}, "writes": writes}
    return {"clients": 50, "e2e_rows": [row], "live_rows": live, "floors": floors}


def by_name(found: list[Any]) -> dict[str, Any]:
    return {figure.name: figure for figure in found}


def test_ingest_throughput_is_the_best_clean_rate_against_the_raw_kafka_loop() -> None:
    found, missing = figures("ingest", ingest_output(), {})
    throughput = by_name(found)["ingest throughput (no errors)"]
    assert (throughput.value, throughput.ceiling, throughput.status) == (3400.0, 6800.0, "met")
    assert throughput.ratio == pytest.approx(0.5)
    assert missing == []


def test_a_rate_with_errors_does_not_count_as_throughput() -> None:
    found, _ = figures("ingest", ingest_output(errors_at_4000=3), {})
    throughput = by_name(found)["ingest throughput (no errors)"]
    assert throughput.value == 1000.0
    assert throughput.status == "not met"


def test_the_ack_goal_is_judged_at_1000_per_second_beside_the_bare_endpoint() -> None:
    ack = by_name(figures("ingest", ingest_output(p99_at_1000=21.0), {})[0])["webhook ack p99"]
    assert (ack.value, ack.ceiling, ack.status) == (21.0, 1.5, "not met")
    assert ack.ratio == pytest.approx(14.0)


def test_a_figure_measured_off_the_goal_size_is_not_called_a_failure() -> None:
    small, _ = figures("customers", customers_output(lookup_p99=7.0), {"customers": 2000})
    large, _ = figures("customers", customers_output(lookup_p99=7.0), {"customers": 1_000_000})
    assert by_name(small)["customer lookup p99"].status == "not at goal size"
    assert by_name(large)["customer lookup p99"].status == "not met"
    assert by_name(small)["customer lookup p99"].at == "2,000 customers"


def test_a_goal_is_judged_only_at_its_rate() -> None:
    below, _ = figures("inbox_live", live_output(rate=100.0), {})
    at, _ = figures("inbox_live", live_output(rate=1000.0), {})
    live = by_name(below)["webhook → live client p99"]
    assert (live.value, live.ceiling, live.status) == (60.0, 10.0, "not at goal size")
    assert live.at == "100/s, 50 streams, 100% delivered"
    assert by_name(at)["webhook → live client p99"].status == "met"


def test_the_live_path_is_shown_at_the_goal_rate_and_the_intake_beside_the_store_bound() -> None:
    found, missing = figures("inbox_live", live_output(25.0, live_rates=(100.0, 1000.0)), {})
    named = by_name(found)
    e2e, path = named["webhook → live client p99"], named["inbox event → live client p99"]
    assert (e2e.ceiling, e2e.ceiling_name) == (10.0, "live path alone p99 at 100/s")
    assert (e2e.at, e2e.status) == ("25/s, 50 streams, 100% delivered", "not at goal size")
    assert (path.value, path.ceiling) == (100.0, 8.0)
    assert path.at == "1,000/s, 50 streams, 100% delivered"
    intake = named["inbox intake, one consumer"]
    assert (intake.value, intake.ceiling) == (20.0, 50.0)
    assert missing == []


def test_keys_a_module_does_not_write_are_named_not_raised() -> None:
    found, missing = figures("orders", {"create": {"per_s": 300.0}}, {})
    assert [figure.status for figure in found] == ["not met", "missing"]
    assert "orders.json: raw_store.per_s" in missing
    assert "orders.json: stage_change.per_s" in missing


def test_the_report_has_a_table_per_store_with_goals_and_processes() -> None:
    process = {
        "role": "kafka",
        "processes": 1,
        "cpu_percent": 87.4,
        "rss_peak_mb": 612.0,
        "rss_mean_mb": 590.2,
    }
    run = {"args": [], "exit": 0, "seconds": 61.0, "processes": [process]}
    stores = {
        "secantusd-rs": {"ingest": run | {"result": ingest_output()}},
        "mongodb": {"ingest": run | {"exit": 1, "result": None, "processes": []}},
    }
    report = build("2026-11-21T20:00:00+00:00", False, stores)
    text = markdown(report)
    assert "### Store: secantusd-rs" in text and "### Store: mongodb" in text
    assert "| ingest throughput (no errors) | 3,400 webhooks/s | — | rates up to 4,000/s |" in text
    assert "50% of ceiling | ≥ 3,000 webhooks/s | met |" in text
    assert "busiest: kafka, 87% of a core |" in text
    assert "| ingest | kafka | 1 | 87 | 612 | 590 |" in text
    assert report["stores"]["mongodb"]["missing"] == ["ingest: no result (exit 1)"]


def test_the_readme_block_is_replaced_and_nothing_else() -> None:
    readme = f"# Title\n\n## Performance\n\n{README_START}\nold\n{README_END}\n\n## Next\n"
    once = with_readme_block(readme, "| new |")
    assert (
        once
        == f"# Title\n\n## Performance\n\n{README_START}\n\n| new |\n\n{README_END}\n\n## Next\n"
    )
    assert with_readme_block(once, "| new |") == once
    with pytest.raises(ValueError):
        with_readme_block("# no markers\n", "| new |")


def test_ports_are_read_from_a_bootstrap_list_and_a_mongodb_url() -> None:
    assert url_port("127.0.0.1:46045,127.0.0.1:46046") == 46045
    assert url_port("mongodb://127.0.0.1:50091/?directConnection=true") == 50091


def test_the_sampler_counts_the_cpu_and_memory_of_the_benchmark_tree() -> None:
    busy = "import time\nwhile time.process_time() < 0.4: pass"
    child = subprocess.Popen([sys.executable, "-c", busy])
    try:
        with Sampler(child.pid, {}, interval=0.05) as sampler:
            child.wait(timeout=60)
    finally:
        child.kill()
    [row] = sampler.summary()
    assert row["role"] == GENERATOR
    assert 0.2 < row["cpu_s"] < 1.0
    assert row["cpu_percent"] > 0
    assert row["rss_peak_mb"] > 1
    assert role_of(psutil.Process(os.getpid()), os.getpid()) == GENERATOR


def test_a_percentile_of_no_sample_is_missing_not_a_met_goal() -> None:
    output = live_output(rate=1000.0)
    output["e2e_rows"][0] |= {"delivered": 0.0, "p99_ms": float("nan")}
    live = by_name(figures("inbox_live", output, {})[0])["webhook → live client p99"]
    assert (live.value, live.status) == (None, "missing")
    assert live.at == "1,000/s, 50 streams, 0% delivered"


def test_a_benchmarks_own_arguments_override_the_quick_and_full_sizes() -> None:
    given = parse(["--quick", "--args", "ingest=--runs 5 --rates 250,4000"])
    assert module_args("ingest", given) == ["--runs", "5", "--rates", "250,4000"]
    assert module_args("orders", given) == MODULES["orders"]
    assert module_args("orders", parse([])) == []


def batch_output(messages: int = 1000, listed_ms: float = 3200.0) -> dict[str, Any]:
    return {"messages": messages, "contacts": messages // 4, "listed_ms": listed_ms,
            "accepted_ms": 900.0, "listed_ratio": 1.0, "limits": "the inbox's intake"}  # fmt: skip


def campaign_output(sends: int = 1000, spread: float = 60.0, p99: float = 1500.0) -> Any:
    def variant(spread_s: float) -> dict[str, float]:
        return {"spread_s": spread_s, "inbox_p99_ms": p99, "inbox_visible": 1.0,
                "customers_p99_ms": p99 * 2, "customers_visible": 1.0}  # fmt: skip

    variants = {"spread": variant(spread), "burst": variant(0.0)}
    return {"sends": sends, "replies": 300, "kafka_hop": {"p99_ms": 10.0},
            "variants": variants, "limits": "x"}  # fmt: skip


def test_the_batch_is_judged_for_1000_messages_beside_ingest_alone() -> None:
    [full], missing = figures("inbox_batch", batch_output(), {})
    [small], _ = figures("inbox_batch", batch_output(messages=100, listed_ms=400.0), {})
    assert (full.value, full.ceiling, full.status) == (3200.0, 900.0, "met")
    assert full.at == "1,000 messages, 250 contacts"
    assert small.status == "not at goal size"
    slow, _ = figures("inbox_batch", batch_output(listed_ms=7000.0), {})
    assert slow[0].status == "not met"
    assert missing == []


def test_a_campaign_has_an_inbox_and_a_customers_lag_per_variant() -> None:
    found, missing = figures("campaign", campaign_output(), {})
    named = by_name(found)
    inbox, customers = (
        named["campaign → inbox lag p99 (spread)"],
        named["campaign → customers lag p99 (spread)"],
    )
    assert (inbox.value, inbox.ceiling, inbox.status) == (1500.0, 10.0, "met")
    assert (customers.value, customers.status) == (3000.0, "not met")
    assert named["campaign → inbox lag p99 (burst)"].status == "met"
    assert (customers.limit, inbox.limit) == ("x", "")
    assert missing == []


def test_a_campaign_smaller_or_faster_than_the_goals_is_not_judged() -> None:
    small = by_name(figures("campaign", campaign_output(sends=100), {})[0])
    short = by_name(figures("campaign", campaign_output(spread=10.0), {})[0])
    assert small["campaign → inbox lag p99 (burst)"].status == "not at goal size"
    assert short["campaign → inbox lag p99 (spread)"].status == "not at goal size"
    assert short["campaign → inbox lag p99 (burst)"].status == "met"


def test_ingest_is_judged_per_worker_count_and_flat_out_counts_as_throughput() -> None:
    one = ingest_output() | {"workers": 1, "max_throughput": {"achieved_per_s": 3600.0}}
    two = ingest_output() | {"workers": 2, "max_throughput": {"achieved_per_s": 2500.0}}
    found, missing = figures("ingest", one | {"by_workers": [one, two]}, {})
    named = by_name(found)
    assert named["ingest throughput (no errors)"].value == 3600.0
    assert named["ingest throughput (no errors)"].at == "flat out, rates up to 4,000/s"
    assert named["ingest throughput (no errors), 2 workers"].value == 3400.0
    assert named["webhook ack p99, 2 workers"].status == "met"
    assert missing == []


def test_a_flat_out_run_with_errors_is_not_throughput() -> None:
    one = ingest_output() | {"max_throughput": {"achieved_per_s": 5000.0, "errors": 7}}
    found, _ = figures("ingest", one | {"by_workers": [one]}, {})
    assert by_name(found)["ingest throughput (no errors)"].value == 3400.0


def test_the_speed_goals_are_set_on_intake_orders_the_list_and_the_import() -> None:
    intake = by_name(figures("inbox_live", live_output(1000.0), {})[0])
    assert intake["inbox intake, one consumer"].status == "not met"
    orders = by_name(figures("orders", {"create": {"per_s": 600.0}, "raw_store": {"per_s": 900.0},
                                        "stage_change": {"per_s": 1.0}}, {})[0])  # fmt: skip
    assert orders["order creates"].status == "met"
    assert orders["order stage changes"].status == ""
    lists = {"all": {"p99_ms": 30.0}, "name": {"p99_ms": 60.0}, "raw_store_find": {"p99_ms": 5.0}}
    big = by_name(figures("inbox", {"conversations": 100_000, "lists": lists}, {})[0])
    small = by_name(figures("inbox", {"conversations": 1000, "lists": lists}, {})[0])
    assert big["slowest list query p99 (name)"].status == "not met"
    assert small["slowest list query p99 (name)"].status == "not at goal size"
    data = customers_output(3.0) | {"customers": 1_000_000}
    data |= {"import": {"per_s": 900.0, "rss_start_mb": 90.0, "rss_peak_mb": 120.0}}
    named = by_name(figures("customers", data, sizes(["--import-rows", "100000"]))[0])
    assert named["CSV import"].status == "met"
    small = by_name(figures("customers", data, sizes(["--import-rows", "500"]))[0])
    assert small["CSV import"].status == "not at goal size"
    assert named["CSV import"].goal is not None
    memory = named["customers RSS peak during the import"]
    assert (memory.value, memory.ceiling) == (120.0, 90.0)
    assert memory.ratio == pytest.approx(120 / 90)


def test_each_figure_says_what_limits_it_and_shows_its_value_from_before() -> None:
    run = {"args": [], "exit": 0, "seconds": 9.0, "processes": []}
    earlier = build("2026-11-22T05:00:00+00:00", False, {"old": {
        "ingest": run | {"result": ingest_output()},
        "inbox": run | {"result": {"conversations": 5, "lists": {"name": {"p99_ms": 602.0}}}},
    }})  # fmt: skip
    one = ingest_output() | {"limits": "What limits it: Kafka."}
    two = ingest_output() | {"workers": 2}
    now = build("2026-12-08T00:00:00+00:00", False, {"new": {
        "ingest": run | {"result": one | {"by_workers": [one, two]}},
        "inbox": run | {"result": {"conversations": 5, "lists": {"all": {"p99_ms": 40.0}}}},
        "orders": run | {"result": {"create": {"per_s": 90.0}, "raw_store": {"per_s": 100.0},
                                    "stage_change": {"per_s": 10.0}}},
    }})  # fmt: skip
    text = markdown(now, earlier)
    assert "| 3,400 webhooks/s | 3,400 webhooks/s |" in text
    assert "| ingest throughput (no errors), 2 workers | 3,400 webhooks/s | — |" in text
    assert "| Kafka; busiest" not in text and "| Kafka |" in text
    assert "| slowest list query p99 (all) | 40.0 ms | 602 ms |" in text
    assert "| order creates | 90.0 ops/s | — |" in text
    assert "| its ceiling (raw store upserts (counter + insert)) |" in text
    assert "| the service's own work below its ceiling (raw store upserts" in text
    assert "`before`: the same figure on 2026-11-22." in text


def test_every_benchmark_takes_its_quick_arguments_and_writes_where_the_report_reads() -> None:
    assert {"inbox_batch", "campaign"} <= set(MODULES)
    for name, args in MODULES.items():
        usage = subprocess.run(
            [sys.executable, "-m", f"bench.{name}", "--help"],
            capture_output=True, text=True, cwd=ROOT, check=True,
        ).stdout  # fmt: skip
        flags = [arg for arg in args if arg.startswith("--")]
        assert [flag for flag in flags if flag not in usage] == [], name
        assert "--out" in usage, name
