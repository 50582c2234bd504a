#pragma once
// Output activations and their losses, evaluated over the neurons a sample computed
// (all of them when dense, the active set when sparse).
//  - softmax + cross-entropy: one label (or a distribution over labels) per sample
//  - sigmoid + binary cross-entropy: any number of labels per sample
//  - identity + squared error: regression targets
#include <cstddef>
#include <cstdint>
#include <string>

namespace udt {

enum class LossKind { Softmax, Sigmoid, Mse };
LossKind parse_loss(const std::string& name);
const char* loss_name(LossKind kind);

// Turns logits over the ascending neuron ids `active` into dL/dz in place (multiplied by
// `scale`, e.g. 1/batch) and returns the loss. Label targets: ids + values (values may
// be null: softmax spreads 1 evenly over the labels, sigmoid and mse use 1).
float loss_and_gradient(LossKind kind, const uint32_t* active, float* z, size_t n_active,
                        const uint32_t* label_ids, const float* label_values, size_t n_labels, float scale);

// Logits -> outputs in place: softmax probabilities, sigmoid activations, or unchanged.
void activate(LossKind kind, float* z, size_t n);

}  // namespace udt
