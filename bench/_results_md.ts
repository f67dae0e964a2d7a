import type { Machine } from "./_machine.ts";
import type { Section } from "./_report.ts";

/** Renders bench/RESULTS.md from the machine and every benchmark's section. */
export function resultsMarkdown(
  machine: Machine,
  command: string,
  sections: Section[],
  totalSeconds: number,
): string {
  const lines = [
    "# jobworker benchmarks",
    "",
    "Written by `deno task bench` (bench/main.ts); do not edit by hand. " +
    "Every ratio is against a baseline measured in the same run. " +
    "Tests never assert wall-clock times; these figures are reports, not checks.",
    "",
    "## Machine",
    "",
    `- Cores: ${machine.cores} (${machine.cpu}), memory ${machine.memory}`,
    `- Kernel: ${machine.kernel}; cgroup ${machine.cgroup}`,
    `- Deno: ${machine.deno}`,
    `- Data directory: ${machine.disk}`,
    `- Load average before the run: ${machine.loadBefore} (other work shares this machine; figures are noisy)`,
    `- Code: ${machine.revision}`,
    `- Command: \`${command}\``,
    `- Run: ${new Date().toISOString()}, took ${totalSeconds.toFixed(0)} s`,
    "",
    "## Summary",
    "",
    "| Benchmark | Figure | Value | Baseline (same run) | Ratio | Goal | |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const section of sections) {
    for (const f of section.figures.filter((f) => f.goal)) {
      lines.push(
        `| ${section.title} | ${f.name} | ${f.value} | ${f.baseline ?? ""} | ${
          f.ratio ?? ""
        } | ${f.goal} | ${f.met ? "met" : "**missed**"} |`,
      );
    }
  }
  for (const section of sections) {
    lines.push(
      "",
      `## ${section.title}`,
      "",
      `(${section.seconds.toFixed(1)} s)`,
      "",
      ...section.setup.map((s) => `- ${s}`),
      "",
    );
    if (section.figures.length > 0) {
      lines.push(
        "| Figure | Value | Baseline (same run) | Ratio | Goal |",
        "|---|---|---|---|---|",
        ...section.figures.map((f) =>
          `| ${f.name} | ${f.value} | ${f.baseline ?? ""} | ${
            f.ratio ?? ""
          } | ${f.goal ? `${f.goal}: ${f.met ? "met" : "**missed**"}` : ""} |`
        ),
        "",
      );
    }
    for (const note of section.notes) lines.push(`- ${note}`);
    if (section.notes.length > 0) lines.push("");
    for (const plot of section.plots) {
      lines.push(`![${plot.caption}](${plot.file})`, "");
    }
  }
  return lines.join("\n");
}
