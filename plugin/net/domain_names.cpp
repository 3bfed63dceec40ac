#include "net/domain_names.h"

void DomainNames::learn(const std::string &ip, const std::string &domain)
{
    auto known = by_ip_.find(ip);
    if (known != by_ip_.end()) {
        known->second.domain = domain;
        oldest_first_.splice(oldest_first_.end(), oldest_first_, known->second.age);
        return;
    }
    if (by_ip_.size() >= capacity_) {
        by_ip_.erase(oldest_first_.front());
        oldest_first_.pop_front();
    }
    oldest_first_.push_back(ip);
    by_ip_.emplace(ip, Entry{domain, std::prev(oldest_first_.end())});
}

std::string DomainNames::find(const std::string &ip) const
{
    auto known = by_ip_.find(ip);
    return known == by_ip_.end() ? std::string() : known->second.domain;
}
