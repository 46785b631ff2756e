// A fresh private directory (mkdtemp) removed with its contents on destruction.
// Each daemon fixture gets one as its runtime directory, hence its own namespace.
#pragma once

#include <string>

namespace mmm::test {

class TempDir {
  public:
    explicit TempDir(const std::string& prefix = "mmm-test");
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace mmm::test
