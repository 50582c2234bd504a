#include "loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace udt {

LossKind parse_loss(const std::string& name) {
  if (name == "softmax") return LossKind::Softmax;
  if (name == "sigmoid") return LossKind::Sigmoid;
  if (name == "mse") return LossKind::Mse;
  throw std::invalid_argument("loss must be 'softmax', 'sigmoid' or 'mse', got '" + name + "'");
}

const char* loss_name(LossKind kind) {
  switch (kind) {
    case LossKind::Softmax: return "softmax";
    case LossKind::Sigmoid: return "sigmoid";
    default: return "mse";
  }
}

static void softmax_inplace(float* z, size_t n) {
  float max_z = -INFINITY;
  for (size_t i = 0; i < n; ++i) max_z = std::max(max_z, z[i]);
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) { z[i] = std::exp(z[i] - max_z); sum += z[i]; }
  float inv = 1.0f / sum;
  for (size_t i = 0; i < n; ++i) z[i] *= inv;
}

static float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

void activate(LossKind kind, float* z, size_t n) {
  if (kind == LossKind::Softmax) softmax_inplace(z, n);
  else if (kind == LossKind::Sigmoid) for (size_t i = 0; i < n; ++i) z[i] = sigmoid(z[i]);
}

// Position of neuron `id` in the ascending active set, or n when absent.
static size_t find_active(const uint32_t* active, size_t n, uint32_t id) {
  const uint32_t* it = std::lower_bound(active, active + n, id);
  return (it != active + n && *it == id) ? size_t(it - active) : n;
}

float loss_and_gradient(LossKind kind, const uint32_t* active, float* z, size_t n_active,
                        const uint32_t* label_ids, const float* label_values, size_t n_labels, float scale) {
  float loss = 0.0f;
  if (kind == LossKind::Softmax) {
    softmax_inplace(z, n_active);
    float total = 0.0f;
    for (size_t j = 0; j < n_labels; ++j) total += label_values ? label_values[j] : 1.0f / float(n_labels);
    // dL/dz = total * p - t, where t is the target mass on each label.
    for (size_t i = 0; i < n_active; ++i) z[i] *= total;
    for (size_t j = 0; j < n_labels; ++j) {
      float t = label_values ? label_values[j] : 1.0f / float(n_labels);
      size_t pos = find_active(active, n_active, label_ids[j]);
      if (pos == n_active) continue;  // only at inference-style calls; training forces labels in
      loss -= t * std::log(std::max(z[pos] / std::max(total, 1e-30f), 1e-30f));
      z[pos] -= t;
    }
  } else if (kind == LossKind::Sigmoid) {
    for (size_t i = 0; i < n_active; ++i) {
      float p = sigmoid(z[i]);
      loss -= std::log(std::max(1.0f - p, 1e-30f));  // as if negative; corrected for labels below
      z[i] = p;
    }
    for (size_t j = 0; j < n_labels; ++j) {
      float y = label_values ? label_values[j] : 1.0f;
      size_t pos = find_active(active, n_active, label_ids[j]);
      if (pos == n_active) continue;
      float p = z[pos];
      loss += std::log(std::max(1.0f - p, 1e-30f));
      loss -= y * std::log(std::max(p, 1e-30f)) + (1.0f - y) * std::log(std::max(1.0f - p, 1e-30f));
      z[pos] = p - y;
    }
  } else {
    // Squared error 0.5 * (z - y)^2 per computed output; unlabeled outputs target 0.
    for (size_t j = 0; j < n_labels; ++j) {
      size_t pos = find_active(active, n_active, label_ids[j]);
      if (pos == n_active) continue;
      z[pos] -= label_values ? label_values[j] : 1.0f;
    }
    for (size_t i = 0; i < n_active; ++i) loss += 0.5f * z[i] * z[i];
  }
  for (size_t i = 0; i < n_active; ++i) z[i] *= scale;
  return loss;
}

}  // namespace udt
