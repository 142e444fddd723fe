/* Range checks of layer arguments against their nn_arg_spec tables, for the validate
 * step of layers whose arguments can be set from C without going through a parser. */
#ifndef NN_ARG_CHECK_H
#define NN_ARG_CHECK_H

#include "../layer.h"

/* Checks every number argument (int, optional int, float, each entry of a pair, an
 * optional pair unless it is nil) of layer against its spec's [min, max]. Returns
 * NN_ERR_ARGUMENT naming the layer, the argument, the value and the range. */
nn_status nn_layer_check_arg_ranges(const nn_layer *layer);

#endif
