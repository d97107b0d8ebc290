"""The terminal summary shows the OpInfo harness's sample counts by op."""


def pytest_terminal_summary(terminalreporter):
    """The OpInfo harness's sample counts by op, when it ran."""
    from tests.conformance.sample_counts import summary_lines

    lines = summary_lines()
    if lines:
        terminalreporter.section("torch OpInfo samples by op")
        for line in lines:
            terminalreporter.write_line(line)
