#include "records/sinks.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <string>
#include <sys/stat.h>
#include <sys/uio.h>
// No CODE_FILE/CODE_LINE/CODE_FUNC of this file in every record.
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>
#include <vector>

namespace {

class JournalSink : public RecordSink {
public:
    const char *name() const override { return "journal"; }
    bool write(const Record &record) override
    {
        std::vector<std::string> fields = record_journal_fields(record);
        std::vector<iovec> iov;
        iov.reserve(fields.size());
        for (std::string &field : fields)
            iov.push_back({field.data(), field.size()});
        int result = sd_journal_sendv(iov.data(), static_cast<int>(iov.size()));
        return result < 0 ? fail(-result) : true;
    }
};

// write() of the whole buffer, retried on EINTR and partial writes.
bool write_all(int fd, const char *data, size_t size, int &error)
{
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            error = errno;
            return false;
        }
        data += written;
        size -= static_cast<size_t>(written);
    }
    return true;
}

class FileSink : public RecordSink {
public:
    FileSink(std::string path, uint64_t max_bytes, unsigned keep, FileFormat format)
        : path_(std::move(path)), max_bytes_(max_bytes), keep_(keep), format_(format) {}
    ~FileSink() override
    {
        if (fd_ >= 0)
            close(fd_);
    }
    const char *name() const override { return "file"; }

    // Appends to what is there, so a restart loses nothing either.
    int open_file()
    {
        fd_ = open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0640);
        if (fd_ < 0)
            return errno;
        struct stat st;
        int error = fstat(fd_, &st) != 0 ? errno : S_ISREG(st.st_mode) ? 0 : EINVAL;
        if (error) {
            close(fd_);
            fd_ = -1;
            return error;
        }
        fcntl(fd_, F_SETFL, O_WRONLY | O_APPEND);
        size_ = static_cast<uint64_t>(st.st_size);
        return 0;
    }

    bool write(const Record &record) override
    {
        std::string line = format_ == FileFormat::Json ? record_json(record) : record_line_protocol(record);
        if (line.empty())
            return fail(EINVAL);  // nothing line protocol can carry
        line += '\n';
        if (fd_ >= 0 && size_ > 0 && size_ + line.size() > max_bytes_)
            rotate();
        if (fd_ < 0) {
            int error = open_file();
            if (error)
                return fail(error);
        }
        int error = 0;
        if (!write_all(fd_, line.data(), line.size(), error)) {
            // A line cut short is taken back, so the next one starts a line of its own.
            if (ftruncate(fd_, static_cast<off_t>(size_)) != 0) {
                close(fd_);
                fd_ = -1;
            }
            return fail(error);
        }
        size_ += line.size();
        return true;
    }

private:
    void rotate()
    {
        close(fd_);
        fd_ = -1;
        for (unsigned n = keep_; n > 1; --n)
            rename((path_ + "." + std::to_string(n - 1)).c_str(), (path_ + "." + std::to_string(n)).c_str());
        // Not renamed (directory not writable): the file goes on growing, and the error is reported.
        if (rename(path_.c_str(), (path_ + ".1").c_str()) != 0)
            fail(errno);
    }

    std::string path_;
    uint64_t max_bytes_;
    unsigned keep_;
    FileFormat format_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

class FdSink : public RecordSink {
public:
    explicit FdSink(int fd) : fd_(fd) {}
    const char *name() const override { return "stdout"; }
    bool write(const Record &record) override
    {
        if (broken())
            return false;
        std::string line = record_json(record) + "\n";
        // Waits for room in slices, so that a stop is seen while a reader stalls.
        pollfd out{fd_, POLLOUT, 0};
        while (!abandoned_) {
            int ready = poll(&out, 1, 100);
            if (ready > 0)
                break;
            if (ready < 0 && errno != EINTR)
                return fail(errno, true);
        }
        if (abandoned_)
            return fail(ECANCELED);
        int error = 0;
        if (!write_all(fd_, line.data(), line.size(), error))
            return fail(error, error == EPIPE || error == EBADF);
        return true;
    }

private:
    int fd_;
};

} // namespace

std::unique_ptr<RecordSink> make_journal_sink()
{
    return std::make_unique<JournalSink>();
}

std::unique_ptr<RecordSink> make_file_sink(const std::string &path, uint64_t max_bytes, unsigned keep,
                                           FileFormat format, std::string &error)
{
    auto sink = std::make_unique<FileSink>(path, max_bytes, keep, format);
    if (int open_error = sink->open_file()) {
        error = strerror(open_error);
        return nullptr;
    }
    return sink;
}

std::unique_ptr<RecordSink> make_fd_sink(int fd)
{
    return std::make_unique<FdSink>(fd);
}
