/*
 * classifier: a text classifier for routing (API.md section 16, 智能派单).
 *
 * Features: the character unigrams, bigrams and trigrams of the title and the text
 * (Unicode code points decoded from UTF-8; ASCII letters folded to lower case, ASCII
 * digits all read as '0', runs of blanks and punctuation read as one boundary symbol,
 * which also opens and closes each of the two texts), hashed (FNV-1a) into a fixed
 * space of 2^dim_bits buckets. A text's vector holds each bucket's count divided by the
 * square root of the number of n-grams, so long and short texts weigh alike.
 *
 * Model: multinomial logistic regression (softmax over the labels) trained by
 * stochastic gradient descent with a seeded shuffle, so the same examples, parameters
 * and seed give the same model, bit for bit. A positive example pulls its text toward
 * its label (loss -log p(label)); a negative example ("not this label": a department
 * returned the case) pushes it away (loss -log(1 - p(label))). Each example carries a
 * weight (recent cases weigh more). Confidences are calibrated: 1 in holdout_every
 * positive examples is held out of a first training; the model's accuracy on them is
 * the reported accuracy, and the softmax temperature that minimises their log loss
 * scales every later prediction. The final model is then trained on all examples.
 *
 * Pure: no I/O, no clock, no globals. A Classifier is immutable once built, so any
 * number of threads may predict with one at once; it is swapped whole as one pointer.
 */
#ifndef HOTLINE_CORE_CLASSIFIER_H
#define HOTLINE_CORE_CLASSIFIER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLASSIFIER_LABELS_MAX 256	/* labels (departments) in one model */
#define CLASSIFIER_LABEL_MAX 63		/* bytes of one label */
#define CLASSIFIER_DIM_BITS_MIN 8
#define CLASSIFIER_DIM_BITS_MAX 22

typedef struct ClassifierExample {
	const char *title;	/* may be NULL */
	const char *text;	/* may be NULL */
	uint32_t label;		/* index into the labels given to classifier_train */
	bool negative;		/* true: the text does NOT belong to label */
	float weight;		/* > 0; 1 is an ordinary example */
} ClassifierExample;

typedef struct ClassifierParams {
	unsigned dim_bits;	/* feature space of 2^dim_bits buckets */
	unsigned epochs;	/* passes over the examples */
	float learning_rate;	/* of the first pass; pass e uses learning_rate / sqrt(1 + e) */
	uint64_t seed;		/* of the shuffle */
	unsigned holdout_every;	/* 1 in N positive examples measures accuracy and calibrates; 0: none */
} ClassifierParams;

/* What the training measured, kept in the model. */
typedef struct ClassifierInfo {
	size_t examples;	/* examples trained on (positive and negative) */
	size_t held_out;	/* positive examples held out of the first training */
	size_t held_out_right;	/* of them, how many the first model labelled right */
	double accuracy;	/* held_out_right / held_out; -1 when nothing was held out */
	double temperature;	/* softmax temperature of predictions (1 = raw) */
} ClassifierInfo;

/* One label's confidence, as classifier_predict ranks them. */
typedef struct ClassifierGuess {
	const char *label;	/* borrowed from the model */
	uint32_t index;
	double confidence;	/* calibrated probability, 0..1; the ranks' sum is <= 1 */
} ClassifierGuess;

typedef struct Classifier Classifier;

/* The parameters measured best on the routing hold-outs (bench/routing/README.md). */
void classifier_params_default(ClassifierParams *p);

/*
 * Train a model over nlabels labels (1..CLASSIFIER_LABELS_MAX distinct strings of 1..63
 * bytes, copied) from n examples (an example whose label is out of range or whose
 * weight is not positive is skipped). Returns NULL for bad labels or parameters, or
 * when out of memory. Deterministic: equal inputs give equal models. Free with
 * classifier_free. Cost: about epochs x (n-grams of all texts) x nlabels, twice when
 * holdout_every is set.
 */
Classifier *classifier_train(const char *const *labels, size_t nlabels, const ClassifierExample *ex, size_t n,
			     const ClassifierParams *p);

void classifier_free(Classifier *c);

/*
 * Rank the labels for a title and a text (either may be NULL). Writes the best
 * min(ntop, labels) guesses into top, most confident first (ties: lower index first),
 * and returns how many it wrote; 0 for a NULL model. No allocation: it may run on the
 * event loop (microseconds for a typical case).
 */
size_t classifier_predict(const Classifier *c, const char *title, const char *text, ClassifierGuess *top,
			  size_t ntop);

/*
 * The share (0..1) of the characters of title and text (blanks and punctuation aside)
 * that are not ASCII and occur somewhere in the training texts: how much of a case the
 * model has any evidence about (ASCII letters and digits, reference numbers and codes,
 * never count as known). 0 for a NULL model or an empty case.
 */
double classifier_coverage(const Classifier *c, const char *title, const char *text);

size_t classifier_label_count(const Classifier *c);
/* The label's index, or -1 when the model does not know it. */
int classifier_label_index(const Classifier *c, const char *label);
const char *classifier_label(const Classifier *c, size_t index);
const ClassifierInfo *classifier_info(const Classifier *c);

/*
 * The model as bytes (a versioned little-endian format) for storage: *out is malloc'd
 * for the caller to free, *len its size. False when out of memory.
 */
bool classifier_save(const Classifier *c, unsigned char **out, size_t *len) __attribute__((warn_unused_result));

/* A model from classifier_save's bytes; NULL when they are not such a model (any
 * truncation or corruption of the header is refused) or when out of memory. */
Classifier *classifier_load(const unsigned char *buf, size_t len);

#endif
