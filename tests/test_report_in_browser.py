"""The reports opened in a real headless browser (Chromium): every picture loads and every link or picture
points at a file that exists. Skipped where Chromium is not installed (.ci/run installs Debian's)."""

import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deepfin.cli import main
from deepfin.finance import synthetic_prices

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")

PROBE = """<!DOCTYPE html><html><body><iframe id="report" src="{src}" width="1200" height="900"></iframe>
<script>
document.getElementById("report").addEventListener("load", function () {{
  var pictures = this.contentDocument.images, seen = [];
  for (var i = 0; i < pictures.length; i++) {{
    var p = pictures[i];
    seen.push(p.getAttribute("src") + "=" + (p.complete && p.naturalWidth > 0 ? "loaded" : "broken"));
  }}
  var out = document.createElement("pre");
  out.id = "seen";
  out.textContent = "PICTURES:" + seen.join(",") + ";TITLE:" + this.contentDocument.title;
  document.body.appendChild(out);
}});
</script></body></html>"""


class _References(HTMLParser):
    def __init__(self):
        super().__init__()
        self.targets = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.targets += [attrs[key] for key in ("href", "src") if attrs.get(key)]


def _open_in_browser(report: Path, tmp_path: Path) -> tuple[dict, str]:
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.format(src=report.resolve().as_uri()))
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                          "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    seen = dom.rsplit("PICTURES:", 1)[1].split("</pre>")[0]
    pictures, title = seen.split(";TITLE:")
    return dict(item.rsplit("=", 1) for item in pictures.split(",") if item), title


def _check(report: Path, tmp_path: Path, title: str) -> dict:
    pictures, seen_title = _open_in_browser(report, tmp_path)
    assert seen_title == title
    assert pictures and set(pictures.values()) == {"loaded"}, pictures
    references = _References()
    references.feed(report.read_text())
    for target in references.targets:
        if not target.startswith(("#", "http://", "https://", "data:")):
            assert (report.parent / target).is_file(), target
    return pictures


def test_the_run_report_loads_whole_in_a_browser(tmp_path):
    synthetic_prices("planted", n_tickers=20, seed=1).rename_axis("date").to_csv(tmp_path / "prices.csv")
    assert main(["run", "--data", str(tmp_path / "prices.csv"), "--set=train_size=60", "--set=test_size=12",
                 "--set=tuning_folds=1", "--set=quick=true", "--set=k=5", "--out", str(tmp_path / "run")]) == 0
    pictures = _check(tmp_path / "run" / "report.html", tmp_path, "deepfin run: monthly recipe")
    assert set(pictures) == {"equity.png", "roc.png", "auc_by_window.png", "ic_by_window.png", "deciles.png"}


def test_the_study_report_loads_whole_in_a_browser(tmp_path):
    assert main(["run", "--recipe", "daily", "--models", "logit,gbt,ens1", "--quick", "--data",
                 "synthetic:30,years=3", "--set=train_size=250", "--set=test_size=125", "--set=ks=[5]",
                 "--set", 'model.ens1={members=["logit", "gbt"]}', "--n-jobs", "1",
                 "--out", str(tmp_path / "study")]) == 0
    pictures = _check(tmp_path / "study" / "report.html", tmp_path, "deepfin study: logit, gbt, ens1")
    assert set(pictures) == {"cumulative_before_costs.png", "cumulative_after_costs.png", "importance.png"}
