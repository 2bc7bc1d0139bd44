import type { Stage } from "../api/orders";

/** A pipeline stage as a coloured badge; white or dark text, whichever reads on the colour. */
export function StageBadge({ stage }: { stage: Stage }) {
  const hex = /^#[0-9a-f]{6}$/i.test(stage.color) ? stage.color : "#6b7280";
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));
  const light = 0.299 * r + 0.587 * g + 0.114 * b > 160;
  return (
    <span className="stage-badge" style={{ background: hex, color: light ? "#111827" : "#fff" }} data-state={stage.state}>
      {stage.name}
    </span>
  );
}
