// The etcd store module's entry point (etcd_module.h); compiled only into libeventgateway_etcd.so.

#include "store/etcd/etcd_module.h"

std::unique_ptr<eg::store::Store> eg_open_etcd_store(const eg::store::EtcdOptions& options) {
  return std::make_unique<eg::store::EtcdStore>(options);
}
