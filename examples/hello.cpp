// hello.cpp - the README's first program from C++: swarmrt.h is a plain C
// header with extern "C" declarations; swarm_fn is a function of void *.
#include <swarmrt.h>

#include <cstdio>
#include <string>

namespace {

enum : uint32_t { TAG_ECHO = 1, TAG_STOP = 2 };

void echo(void *)
{
    swarm_msg_t *m;
    while (swarm_recv(&m, SWARM_INFINITE) == 0) {
        bool stop = swarm_msg_tag(m) == TAG_STOP;
        if (!stop)
            swarm_send(swarm_msg_sender(m), TAG_ECHO, swarm_msg_data(m), swarm_msg_size(m));
        swarm_msg_free(m);
        if (stop)
            return;
    }
}

void main_proc(void *arg)
{
    auto *out = static_cast<std::string *>(arg);
    swarm_pid_t pid;
    if (swarm_spawn(&pid, echo, nullptr, nullptr) != 0)
        return;
    const std::string text = "hello";
    swarm_send(pid, TAG_ECHO, text.c_str(), text.size() + 1);
    swarm_msg_t *reply;
    if (swarm_recv_tag(TAG_ECHO, &reply, 1000) == 0) {
        *out = static_cast<const char *>(swarm_msg_data(reply));
        swarm_msg_free(reply);
    }
    swarm_send(pid, TAG_STOP, nullptr, 0);
}

} // namespace

int main()
{
    std::string got;
    int r = swarm_run(nullptr, main_proc, &got);
    if (r != 0) {
        std::fprintf(stderr, "swarm_run: %s\n", swarm_strerror(r));
        return 1;
    }
    std::printf("%s\n", got.c_str());
    return got == "hello" ? 0 : 1;
}
