"""Pictures of a run: functions that return matplotlib figures (the package never shows them).

Scripts and the CLI save them; :func:`write_pictures` writes the standard set for a run record.
"""

from .heatmap import heatmap_grid, plot_heatmap, save_heatmap_gif
from .regions import neuron_activations, plot_regions, save_regions_gif
from .scatter import plot_data, plot_predictions
from .standard import KINDS, applicable, skipped, write_pictures
from .trajectories import plot_loss_curves, plot_weight_trajectories
from .w1_only import plot_w1_only

__all__ = [
    "KINDS",
    "applicable",
    "heatmap_grid",
    "neuron_activations",
    "plot_data",
    "plot_heatmap",
    "plot_loss_curves",
    "plot_predictions",
    "plot_regions",
    "plot_w1_only",
    "plot_weight_trajectories",
    "save_heatmap_gif",
    "save_regions_gif",
    "skipped",
    "write_pictures",
]
