import type { Phase } from '@vtrain/protocol';
import type uPlot from 'uplot';
import type { PhaseBand } from './series.js';

/** Shading per phase: light enough that the curves drawn over it stay readable. */
export const PHASE_COLORS: Record<Phase, string> = {
  async: 'rgba(59, 130, 246, 0.10)',
  hybrid: 'rgba(168, 85, 247, 0.12)',
  sync: 'rgba(249, 115, 22, 0.12)',
};

/**
 * A uPlot plugin that shades each phase band behind the curves. It draws in
 * `drawClear`, which runs right after the canvas is cleared and before grid
 * and series, and reads the bands through a getter, so new bands show on the
 * next `setData` without rebuilding the chart.
 */
export function phaseBandsPlugin(getBands: () => readonly PhaseBand[]): uPlot.Plugin {
  return {
    hooks: {
      drawClear: (u: uPlot) => {
        const { ctx, bbox } = u;
        ctx.save();
        for (const band of getBands()) {
          const left = Math.max(bbox.left, u.valToPos(band.from, 'x', true));
          const right = Math.min(bbox.left + bbox.width, u.valToPos(band.to, 'x', true));
          if (!(right > left)) continue;
          ctx.fillStyle = PHASE_COLORS[band.phase];
          ctx.fillRect(left, bbox.top, right - left, bbox.height);
        }
        ctx.restore();
      },
    },
  };
}
