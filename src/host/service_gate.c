/* service_gate.c: admission control per service. At most
 * limits.max_concurrent requests hold a slot; up to limits.queue more
 * wait in FIFO order; the rest are turned away (503). A freed slot passes
 * straight to the oldest waiter, so a waiter is never overtaken.
 *
 * With max_concurrent 0 the gate is open and takes no lock: the number of
 * event loops already bounds how many guests run at once. */
#include "serviceInt.h"

static bool gate_open(const wh_host_service *s)
{
    return s->conf->limits.max_concurrent == 0;
}

wh_host_gate_result wh_host_gate_enter(wh_host_service *s, wh_host_waiter *w)
{
    if (gate_open(s))
        return WH_HOST_GATE_ENTERED;
    wh_host_gate_result r = WH_HOST_GATE_FULL;
    pthread_mutex_lock(&s->lock);
    if (s->running < s->conf->limits.max_concurrent) {
        s->running++;
        r = WH_HOST_GATE_ENTERED;
    } else if (s->waiting < s->conf->limits.queue) {
        w->next = NULL;
        if (s->tail)
            s->tail->next = w;
        else
            s->head = w;
        s->tail = w;
        s->waiting++;
        r = WH_HOST_GATE_QUEUED;
    }
    pthread_mutex_unlock(&s->lock);
    return r;
}

void wh_host_gate_leave(wh_host_service *s)
{
    if (gate_open(s))
        return;
    pthread_mutex_lock(&s->lock);
    wh_host_waiter *w = s->head;
    if (w) {
        /* The slot moves to w: `running` stays as it is. */
        s->head = w->next;
        if (!s->head)
            s->tail = NULL;
        s->waiting--;
    } else {
        s->running--;
    }
    pthread_mutex_unlock(&s->lock);
    if (w)
        w->grant(w);
}

bool wh_host_gate_cancel(wh_host_service *s, wh_host_waiter *w)
{
    bool found = false;
    pthread_mutex_lock(&s->lock);
    wh_host_waiter *prev = NULL;
    for (wh_host_waiter *q = s->head; q; prev = q, q = q->next) {
        if (q != w)
            continue;
        if (prev)
            prev->next = q->next;
        else
            s->head = q->next;
        if (s->tail == q)
            s->tail = prev;
        s->waiting--;
        found = true;
        break;
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}
