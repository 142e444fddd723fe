/* Learning-rate schedules, as Keras' keras.optimizers.schedules: the rate of an update
 * from the number of updates taken before it (0 for the first). */
#ifndef NN_SCHEDULE_H
#define NN_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>

#include "status.h"

typedef enum nn_schedule_kind {
    NN_SCHEDULE_CONSTANT, /* no schedule: the optimizer's learning_rate as set */
    NN_SCHEDULE_EXPONENTIAL_DECAY,
    NN_SCHEDULE_INVERSE_TIME_DECAY,
    NN_SCHEDULE_POLYNOMIAL_DECAY,
    NN_SCHEDULE_PIECEWISE_CONSTANT_DECAY,
    NN_SCHEDULE_COSINE_DECAY,
    NN_SCHEDULE_COSINE_DECAY_RESTARTS,
    NN_SCHEDULE_COUNT
} nn_schedule_kind;

enum { NN_SCHEDULE_MAX_BOUNDARIES = 32, NN_SCHEDULE_NAME_SIZE = 64 };

/* Every schedule's settings, with Keras' names; each kind reads its own. */
typedef struct nn_schedule {
    nn_schedule_kind kind;
    char name[NN_SCHEDULE_NAME_SIZE]; /* Keras' name= where given, else "" */
    double initial_learning_rate;
    double decay_steps;        /* CosineDecayRestarts' first_decay_steps */
    double decay_rate;         /* ExponentialDecay, InverseTimeDecay */
    bool staircase;            /* ExponentialDecay, InverseTimeDecay: whole periods only */
    double end_learning_rate;  /* PolynomialDecay (0.0001) */
    double power;              /* PolynomialDecay (1) */
    bool cycle;                /* PolynomialDecay: start again after decay_steps */
    double alpha;              /* the cosine schedules' floor, a fraction of the rate (0) */
    bool warmup;               /* CosineDecay: warmup_target was given */
    double warmup_target;      /* CosineDecay: the rate reached after the warmup */
    double warmup_steps;       /* CosineDecay: linear warmup from initial_learning_rate (0) */
    double t_mul;              /* CosineDecayRestarts: each period this much longer (2) */
    double m_mul;              /* CosineDecayRestarts: each restart this much lower (1) */
    int boundary_count;        /* PiecewiseConstantDecay: boundaries, and one more value */
    double boundaries[NN_SCHEDULE_MAX_BOUNDARIES];
    double values[NN_SCHEDULE_MAX_BOUNDARIES + 1];
} nn_schedule;

/* One scalar setting of the schedules, for the Lua binding and model files: its Keras
 * name, where it is, and which kinds take it (bit k for kind k). warmup_target,
 * boundaries and values are not among them (optional, and lists). */
typedef struct nn_schedule_setting {
    const char *name;
    bool flag;      /* a bool; else a double */
    size_t offset;  /* into nn_schedule */
    unsigned kinds;
    bool required;
} nn_schedule_setting;

/* The settings, `*count` of them. */
const nn_schedule_setting *nn_schedule_settings(int *count);

/* One entry of a schedule's config as Keras' get_config lists it, for whoever writes a
 * schedule out (the Lua binding's table, the model file's JSON). */
typedef enum nn_schedule_value_type {
    NN_SCHEDULE_VALUE_NUMBER,
    NN_SCHEDULE_VALUE_FLAG,
    NN_SCHEDULE_VALUE_LIST,   /* `length` numbers at `list` */
    NN_SCHEDULE_VALUE_STRING, /* `text` */
    NN_SCHEDULE_VALUE_NONE,   /* Keras' None: CosineDecay's warmup_target when not given */
} nn_schedule_value_type;

typedef struct nn_schedule_value {
    const char *name;
    nn_schedule_value_type type;
    double number;
    bool flag;
    const double *list; /* into the schedule */
    int length;
    const char *text;   /* into the schedule */
} nn_schedule_value;

enum { NN_SCHEDULE_MAX_VALUES = 16 };

/* The config of `schedule`: every setting its kind reads, then warmup_target (CosineDecay),
 * boundaries and values (PiecewiseConstantDecay) and name (where given). Returns the
 * number of entries written to `values`. */
int nn_schedule_values(const nn_schedule *schedule,
                       nn_schedule_value values[NN_SCHEDULE_MAX_VALUES]);

/* Keras' class name ("ExponentialDecay"); "Constant" for none. */
const char *nn_schedule_name(nn_schedule_kind kind);
/* A kind from its class name; an unknown one is an error listing the names. */
nn_status nn_schedule_parse(const char *name, nn_schedule_kind *kind);
/* A schedule of `kind` with Keras' defaults for the settings that have one. */
nn_schedule nn_schedule_defaults(nn_schedule_kind kind);
/* Every setting the kind reads in its range; the error names the schedule and setting. */
nn_status nn_schedule_check(const nn_schedule *schedule);
/* The rate of the update after `step` updates. */
double nn_schedule_rate(const nn_schedule *schedule, double step);

#endif
