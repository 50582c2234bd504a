#pragma once
// The readers-writer lock that makes inference safe while a network trains: inference
// holds it shared, every change to the network (a training batch, an index pass, loading
// state) holds it exclusively, so a reader sees the model as of a completed change.
// Writers go first: a writer takes the gate before the lock, so readers arriving after it
// queue behind it while the readers already inside finish. (glibc's std::shared_mutex
// alone prefers readers, and a server's overlapping predict calls could starve training.)
// A reader costs two uncontended lock operations, nothing beside a predict call. Not
// reentrant: a thread holding it must not take it again (a waiting writer would deadlock it).
#include <mutex>
#include <shared_mutex>

namespace udt {

class ModelLock {
 public:
  class Writing {
   public:
    explicit Writing(ModelLock& l) : gate_(l.gate_), lock_(l.lock_) {}

   private:
    std::unique_lock<std::mutex> gate_;  // held throughout: no new reader gets in
    std::unique_lock<std::shared_mutex> lock_;
  };

  std::shared_lock<std::shared_mutex> reading() const {
    std::lock_guard<std::mutex> gate(gate_);
    return std::shared_lock<std::shared_mutex>(lock_);
  }
  Writing writing() { return Writing(*this); }

 private:
  mutable std::mutex gate_;
  mutable std::shared_mutex lock_;
};

}  // namespace udt
