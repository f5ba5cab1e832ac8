"""The advice phrases several checks share, written once so that they always read the same."""

__all__ = ["REINIT", "FIND_ETA"]

REINIT = "re-initialize with net.default_weight_initializer() (weights N(0, 1/n_in), chapter 3)"
FIND_ETA = ("find the threshold eta at which the training cost starts to decrease with "
            "nnxp.find_learning_rate() and use about half of it (chapter 3)")
