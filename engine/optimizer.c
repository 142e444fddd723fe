/* Optimizers with the update rules and defaults of Keras 3 (TF 2.11+): SGD, Adam, AdamW,
 * RMSprop, Adagrad, Nadam, Adamax, Adadelta, Lion, Ftrl; each is one loop over the model's
 * flat weight buffer. */
#include "optimizer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device.h"
#include "names.h"


static const char *const optimizer_names[] = {
    [NN_OPTIMIZER_SGD] = "sgd",         [NN_OPTIMIZER_ADAM] = "adam",
    [NN_OPTIMIZER_ADAMW] = "adamw",     [NN_OPTIMIZER_RMSPROP] = "rmsprop",
    [NN_OPTIMIZER_ADAGRAD] = "adagrad", [NN_OPTIMIZER_NADAM] = "nadam",
    [NN_OPTIMIZER_ADAMAX] = "adamax",   [NN_OPTIMIZER_ADADELTA] = "adadelta",
    [NN_OPTIMIZER_LION] = "lion",       [NN_OPTIMIZER_FTRL] = "ftrl",
    [NN_OPTIMIZER_COUNT] = NULL,
};

nn_optimizer_config nn_optimizer_defaults(nn_optimizer_kind kind)
{
    nn_optimizer_config config = {
        .kind = kind,
        .learning_rate = kind == NN_OPTIMIZER_SGD ? 0.01 : 0.001,
        .momentum = 0.0,
        .nesterov = false,
        .beta_1 = 0.9,
        .beta_2 = kind == NN_OPTIMIZER_LION ? 0.99 : 0.999,
        .epsilon = 1e-7,
        .amsgrad = false,
        .weight_decay = kind == NN_OPTIMIZER_ADAMW ? 0.004 : 0.0,
        .rho = kind == NN_OPTIMIZER_ADADELTA ? 0.95 : 0.9,
        .centered = false,
        .initial_accumulator_value = 0.1,
        .learning_rate_power = -0.5,
        .l1_regularization_strength = 0.0,
        .l2_regularization_strength = 0.0,
        .l2_shrinkage_regularization_strength = 0.0,
        .beta = 0.0,
        .clipnorm = 0.0,
        .clipvalue = 0.0,
        .global_clipnorm = 0.0,
    };
    return config;
}

/* Case does not matter: Keras' class names ("Adam", "RMSprop", "SGD") and its string
 * identifiers ("adam", "rmsprop", "sgd") name the same optimizers. */
nn_status nn_optimizer_parse(const char *name, nn_optimizer_kind *kind)
{
    for (int i = 0; i < NN_OPTIMIZER_COUNT; i++) {
        if (strcasecmp(name, optimizer_names[i]) == 0) {
            *kind = (nn_optimizer_kind)i;
            return NN_OK;
        }
    }
    char list[128], guess[128];
    return nn_error(NN_ERR_ARGUMENT, "unknown optimizer '%s'%s; expected one of %s", name,
                    nn_names_did_you_mean(guess, sizeof guess, name, optimizer_names),
                    nn_names_join(list, sizeof list, optimizer_names));
}

const char *const *nn_optimizer_own_settings(nn_optimizer_kind kind)
{
    static const char *const sgd[] = {"momentum", "nesterov", NULL};
    static const char *const adam[] = {"beta_1", "beta_2", "epsilon", "amsgrad", NULL};
    static const char *const rmsprop[] = {"rho", "momentum", "epsilon", "centered", NULL};
    static const char *const adagrad[] = {"initial_accumulator_value", "epsilon", NULL};
    static const char *const adam_like[] = {"beta_1", "beta_2", "epsilon", NULL};
    static const char *const adadelta[] = {"rho", "epsilon", NULL};
    static const char *const lion[] = {"beta_1", "beta_2", NULL};
    static const char *const ftrl[] = {"learning_rate_power", "initial_accumulator_value",
                                       "l1_regularization_strength",
                                       "l2_regularization_strength",
                                       "l2_shrinkage_regularization_strength", "beta", NULL};
    static const char *const none[] = {NULL};
    switch (kind) {
    case NN_OPTIMIZER_SGD: return sgd;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW: return adam;
    case NN_OPTIMIZER_RMSPROP: return rmsprop;
    case NN_OPTIMIZER_ADAGRAD: return adagrad;
    case NN_OPTIMIZER_NADAM:
    case NN_OPTIMIZER_ADAMAX: return adam_like;
    case NN_OPTIMIZER_ADADELTA: return adadelta;
    case NN_OPTIMIZER_LION: return lion;
    case NN_OPTIMIZER_FTRL: return ftrl;
    case NN_OPTIMIZER_COUNT: break;
    }
    return none;
}

#define AT(field) offsetof(nn_optimizer_config, field)
static const nn_optimizer_setting settings[] = {
    {"learning_rate", false, AT(learning_rate)},
    {"momentum", false, AT(momentum)},
    {"nesterov", true, AT(nesterov)},
    {"beta_1", false, AT(beta_1)},
    {"beta_2", false, AT(beta_2)},
    {"epsilon", false, AT(epsilon)},
    {"amsgrad", true, AT(amsgrad)},
    {"weight_decay", false, AT(weight_decay)},
    {"rho", false, AT(rho)},
    {"centered", true, AT(centered)},
    {"initial_accumulator_value", false, AT(initial_accumulator_value)},
    {"learning_rate_power", false, AT(learning_rate_power)},
    {"l1_regularization_strength", false, AT(l1_regularization_strength)},
    {"l2_regularization_strength", false, AT(l2_regularization_strength)},
    {"l2_shrinkage_regularization_strength", false, AT(l2_shrinkage_regularization_strength)},
    {"beta", false, AT(beta)},
    {"clipnorm", false, AT(clipnorm)},
    {"clipvalue", false, AT(clipvalue)},
    {"global_clipnorm", false, AT(global_clipnorm)},
};
#undef AT

const nn_optimizer_setting *nn_optimizer_setting_find(const char *name)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strcmp(name, settings[i].name) == 0)
            return &settings[i];
    return NULL;
}

const char *nn_optimizer_name(nn_optimizer_kind kind)
{
    return kind < NN_OPTIMIZER_COUNT ? optimizer_names[kind] : "unknown";
}

const char *const *nn_optimizer_names(void) { return optimizer_names; }

/* The state buffers a configuration needs, in slot order, with Keras' variable names.
 * Returns how many. */
static int slot_layout(const nn_optimizer_config *config, const char *names[3],
                       float initial[3])
{
    int count = 0;
    initial[0] = initial[1] = initial[2] = 0.0f;
    switch (config->kind) {
    case NN_OPTIMIZER_SGD:
        if (config->momentum != 0.0)
            names[count++] = "momentum";
        break;
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
        names[count++] = "momentum";
        names[count++] = "velocity";
        if (config->amsgrad)
            names[count++] = "velocity_hat";
        break;
    case NN_OPTIMIZER_RMSPROP:
        names[count++] = "velocity";
        if (config->momentum > 0.0)
            names[count++] = "momentum";
        if (config->centered)
            names[count++] = "average_gradient";
        break;
    case NN_OPTIMIZER_ADAGRAD:
        initial[count] = (float)config->initial_accumulator_value;
        names[count++] = "accumulator";
        break;
    case NN_OPTIMIZER_NADAM: /* Keras' u_product is a function of the step count */
        names[count++] = "momentum";
        names[count++] = "velocity";
        break;
    case NN_OPTIMIZER_ADAMAX:
        names[count++] = "momentum";
        names[count++] = "norm";
        break;
    case NN_OPTIMIZER_ADADELTA:
        names[count++] = "accumulated_grad";
        names[count++] = "accumulated_delta_var";
        break;
    case NN_OPTIMIZER_LION:
        names[count++] = "momentum";
        break;
    case NN_OPTIMIZER_FTRL:
        initial[count] = (float)config->initial_accumulator_value;
        names[count++] = "accumulator";
        names[count++] = "linear";
        break;
    default:
        break;
    }
    return count;
}

/* A setting outside its range names the optimizer, the setting and the range. */
static nn_status check_range(const char *optimizer, const char *setting, double value,
                             double low, double high, bool high_inclusive)
{
    bool inside = value >= low && (high_inclusive ? value <= high : value < high);
    if (inside)
        return NN_OK;
    return nn_error(NN_ERR_ARGUMENT, "%s: %s must be in [%g, %g%s, got %g", optimizer, setting,
                    low, high, high_inclusive ? "]" : ")", value);
}

double nn_optimizer_rate_at(const nn_optimizer_config *config, long long iterations)
{
    if (config->schedule.kind == NN_SCHEDULE_CONSTANT)
        return config->learning_rate;
    return nn_schedule_rate(&config->schedule, (double)iterations);
}

bool nn_optimizer_refuses_rate(nn_optimizer_kind kind, double rate)
{
    return kind == NN_OPTIMIZER_FTRL && !(rate >= NN_OPTIMIZER_SMALLEST_DIVISOR);
}

nn_status nn_optimizer_config_check(const nn_optimizer_config *config)
{
    if (config->kind >= NN_OPTIMIZER_COUNT)
        return nn_error(NN_ERR_ARGUMENT, "optimizer kind %d does not exist", (int)config->kind);
    const char *name = nn_optimizer_name(config->kind);
    NN_TRY(nn_schedule_check(&config->schedule));
    /* A schedule's own check holds its rates; learning_rate is then its rate at step 0. */
    if (config->schedule.kind == NN_SCHEDULE_CONSTANT)
        NN_TRY(check_range(name, "learning_rate", config->learning_rate, 0.0,
                           NN_OPTIMIZER_SETTING_MAX, true));
    NN_TRY(check_range(name, "epsilon", config->epsilon, 0.0, 1.0, true));
    NN_TRY(check_range(name, "weight_decay", config->weight_decay, 0.0, NN_WEIGHT_DECAY_MAX, true));
    NN_TRY(check_range(name, "clipnorm", config->clipnorm, 0.0, NN_OPTIMIZER_SETTING_MAX, true));
    NN_TRY(check_range(name, "clipvalue", config->clipvalue, 0.0, NN_OPTIMIZER_SETTING_MAX, true));
    NN_TRY(check_range(name, "global_clipnorm", config->global_clipnorm, 0.0,
                       NN_OPTIMIZER_SETTING_MAX, true));
    if ((config->clipnorm > 0.0) + (config->clipvalue > 0.0) + (config->global_clipnorm > 0.0) > 1)
        return nn_error(NN_ERR_ARGUMENT,
                        "%s: only one of clipnorm, clipvalue and global_clipnorm can be set "
                        "(got clipnorm=%g, clipvalue=%g, global_clipnorm=%g)", name,
                        config->clipnorm, config->clipvalue, config->global_clipnorm);
    switch (config->kind) {
    case NN_OPTIMIZER_SGD:
        return check_range(name, "momentum", config->momentum, 0.0, 1.0, true);
    case NN_OPTIMIZER_ADAM:
    case NN_OPTIMIZER_ADAMW:
    case NN_OPTIMIZER_NADAM:
    case NN_OPTIMIZER_ADAMAX:
        NN_TRY(check_range(name, "beta_1", config->beta_1, 0.0, 1.0, false));
        return check_range(name, "beta_2", config->beta_2, 0.0, 1.0, false);
    case NN_OPTIMIZER_LION:
        /* Keras refuses beta_1 = 0 (the update would be the sign of the gradient alone,
         * signSGD); beta_1 = 1 or beta_2 = 1 only freezes the momentum. */
        if (!(config->beta_1 > 0.0 && config->beta_1 <= 1.0))
            return nn_error(NN_ERR_ARGUMENT, "%s: beta_1 must be in (0, 1], got %g", name,
                            config->beta_1);
        return check_range(name, "beta_2", config->beta_2, 0.0, 1.0, true);
    case NN_OPTIMIZER_ADADELTA:
        return check_range(name, "rho", config->rho, 0.0, 1.0, true);
    case NN_OPTIMIZER_RMSPROP:
        NN_TRY(check_range(name, "rho", config->rho, 0.0, 1.0, true));
        return check_range(name, "momentum", config->momentum, 0.0, 1.0, true);
    case NN_OPTIMIZER_ADAGRAD:
        return check_range(name, "initial_accumulator_value",
                           config->initial_accumulator_value, 0.0, NN_OPTIMIZER_SETTING_MAX, true);
    case NN_OPTIMIZER_FTRL:
        /* Ftrl divides by the rate: 0 would make every weight NaN at the first step. A
         * schedule reaching 0 later stops training at that step (model.c). */
        if (config->schedule.kind == NN_SCHEDULE_CONSTANT &&
            nn_optimizer_refuses_rate(config->kind, config->learning_rate))
            return nn_error(NN_ERR_ARGUMENT,
                            "%s: learning_rate must be above 0 (Ftrl divides by it, at least "
                            "%g in float32), got %g",
                            name, NN_OPTIMIZER_SMALLEST_DIVISOR, config->learning_rate);
        NN_TRY(check_range(name, "initial_accumulator_value",
                           config->initial_accumulator_value, 0.0, NN_OPTIMIZER_SETTING_MAX, true));
        NN_TRY(check_range(name, "learning_rate_power", config->learning_rate_power,
                           -NN_OPTIMIZER_SETTING_MAX, 0.0, true));
        NN_TRY(check_range(name, "l1_regularization_strength",
                           config->l1_regularization_strength, 0.0, NN_OPTIMIZER_SETTING_MAX,
                           true));
        NN_TRY(check_range(name, "l2_regularization_strength",
                           config->l2_regularization_strength, 0.0, NN_OPTIMIZER_SETTING_MAX,
                           true));
        NN_TRY(check_range(name, "l2_shrinkage_regularization_strength",
                           config->l2_shrinkage_regularization_strength, 0.0,
                           NN_OPTIMIZER_SETTING_MAX, true));
        return check_range(name, "beta", config->beta, 0.0, NN_OPTIMIZER_SETTING_MAX, true);
    default:
        return NN_OK;
    }
}

nn_status nn_optimizer_create(nn_optimizer **out, const nn_optimizer_config *config,
                              size_t count)
{
    return nn_optimizer_create_on(out, config, count, nn_device_cpu());
}

nn_status nn_optimizer_create_on(nn_optimizer **out, const nn_optimizer_config *config,
                                 size_t count, nn_device device)
{
    *out = NULL;
    NN_TRY(nn_optimizer_config_check(config));
    nn_optimizer *optimizer = calloc(1, sizeof *optimizer);
    if (!optimizer)
        return nn_error(NN_ERR_MEMORY, "out of memory creating optimizer %s",
                        nn_optimizer_name(config->kind));
    optimizer->config = *config;
    optimizer->count = count;
    const char *names[3];
    float initial[3];
    optimizer->slot_count = slot_layout(config, names, initial);
    optimizer->device = device;
    const nn_backend *backend = nn_backend_for(device);
    for (int s = 0; s < optimizer->slot_count; s++) {
        nn_status status = nn_storage_create_on(&optimizer->slot_storage[s], device,
                                                (count ? count : 1) * sizeof(float));
        if (status != NN_OK) {
            nn_optimizer_free(optimizer);
            return nn_error_prefix(status, "optimizer %s needs %d state buffers of %zu floats",
                                   nn_optimizer_name(config->kind), optimizer->slot_count,
                                   count);
        }
        optimizer->slots[s] = optimizer->slot_storage[s]->data;
        if (initial[s] != 0.0f) /* storage starts at zero */
            backend->fill(optimizer->slots[s], initial[s], count);
    }
    *out = optimizer;
    return NN_OK;
}

nn_status nn_optimizer_move(nn_optimizer *optimizer, nn_device device)
{
    for (int s = 0; s < optimizer->slot_count; s++) {
        nn_status status = nn_storage_move(optimizer->slot_storage[s], device);
        if (status != NN_OK) {
            /* Put back the ones already moved: all slots stay on one device. */
            for (int back = 0; back < s; back++) {
                nn_storage_move(optimizer->slot_storage[back], optimizer->device);
                optimizer->slots[back] = optimizer->slot_storage[back]->data;
            }
            return status;
        }
        optimizer->slots[s] = optimizer->slot_storage[s]->data;
    }
    optimizer->device = device;
    return NN_OK;
}

nn_status nn_optimizer_read_slot(const nn_optimizer *optimizer, int slot, float *host)
{
    return nn_memory_copy(nn_device_cpu(), host, optimizer->device, optimizer->slots[slot],
                          optimizer->count * sizeof(float));
}

nn_status nn_optimizer_write_slot(nn_optimizer *optimizer, int slot, const float *host)
{
    return nn_memory_copy(optimizer->device, optimizer->slots[slot], nn_device_cpu(), host,
                          optimizer->count * sizeof(float));
}

void nn_optimizer_free(nn_optimizer *optimizer)
{
    if (!optimizer)
        return;
    for (int s = 0; s < 3; s++)
        nn_storage_release(optimizer->slot_storage[s]);
    free(optimizer);
}

const char *nn_optimizer_slot_name(const nn_optimizer *optimizer, int slot)
{
    const char *names[3];
    float initial[3];
    int count = slot_layout(&optimizer->config, names, initial);
    return slot >= 0 && slot < count ? names[slot] : NULL;
}

void nn_optimizer_step(nn_optimizer *optimizer, float *weights, const float *grads,
                       const unsigned char *decay_mask)
{
    /* The buffer is one weight tensor here, so clipnorm clips its norm; global_clipnorm
     * is the same bound over the same buffer. */
    optimizer->config.learning_rate = nn_optimizer_rate_at(&optimizer->config,
                                                           optimizer->iterations);
    optimizer->iterations++;
    nn_optimizer_config config = optimizer->config;
    if (config.clipnorm <= 0.0) {
        config.clipnorm = config.global_clipnorm;
        config.global_clipnorm = 0.0;
    }
    nn_backend_for(optimizer->device)
        ->optimizer_step(weights, optimizer->slots, grads, decay_mask, &config,
                         optimizer->iterations, optimizer->count, NULL);
}
