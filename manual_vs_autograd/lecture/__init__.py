"""The lecture's networks and derivations, reproduced and checked.

- :mod:`.scalar_net`: the 2-2-1 network in scalar Python, as the lecture derives it;
- :mod:`.three_ways`: that network three ways (scalar, vectorised manual, autograd), epoch by epoch;
- :mod:`.multiclass`: the 2-2-4 softmax network, correct and as in the original notebook;
- :mod:`.multiclass_parity`: the parity check that finds the original notebook's bugs;
- :mod:`.chain_rule`: functions split into elementary steps and their local derivatives;
- :mod:`.derivation`: a checker for gradient formulas written by hand (the lecture's slip);
- :mod:`.paths`: the gradient as a sum over paths, and what backprop saves;
- :mod:`.experiments`: the notebook's experiments rerun beside its recorded numbers.
"""

from .chain_rule import CHAINS, mse_chain, run_chain
from .derivation import Candidate, check_derivation, check_lecture_slip
from .experiments import NOTEBOOK, run_lecture
from .multiclass import fit_multiclass, multiclass_init
from .multiclass_parity import check_multiclass
from .paths import backprop_gradients, path_count_table, path_gradient
from .scalar_net import fit_scalar, lecture_init
from .three_ways import compare_three_ways

__all__ = [
    "CHAINS",
    "NOTEBOOK",
    "Candidate",
    "backprop_gradients",
    "check_derivation",
    "check_lecture_slip",
    "check_multiclass",
    "compare_three_ways",
    "fit_multiclass",
    "fit_scalar",
    "lecture_init",
    "mse_chain",
    "multiclass_init",
    "path_count_table",
    "path_gradient",
    "run_chain",
    "run_lecture",
]
