from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_example_config_plans_on_a_fresh_machine(run):
    result = run("-C", str(REPO), "plan", "--detailed-exitcode")
    assert result.err == ""
    assert result.code == 2
    assert result.out.splitlines()[-1] == "Plan: 20 to add, 2 to change, 0 to remove, 1 file mode to 0600 (in 2 files)."
