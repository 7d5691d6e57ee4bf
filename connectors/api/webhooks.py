"""``POST /hooks/<system>/``: a platform's signed push. Verified, stored raw, answered 202 at once;
applied by the inbound queue through the same path as a pull."""

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from connectors.services.webhooks import SIGNATURE_HEADER, WebhookRefused, webhook_receive
from connectors.tasks import inbound_webhook_process_task
from hub.api.errors import PROBLEM_CONTENT_TYPE, problem

MAX_BODY_BYTES = 2 * 1024 * 1024


@csrf_exempt  # the HMAC signature is the authentication; there is no session to forge
@require_POST
def webhook_receiver(request: HttpRequest, system: str) -> JsonResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return JsonResponse(problem(413, "Webhook body too large."), status=413, content_type=PROBLEM_CONTENT_TYPE)
    try:
        receipt = webhook_receive(system_key=system, header=request.headers.get(SIGNATURE_HEADER), body=request.body)
    except WebhookRefused as exc:
        return JsonResponse(problem(exc.status, str(exc), instance=request.path), status=exc.status,
                            content_type=PROBLEM_CONTENT_TYPE)
    if not receipt.duplicate:
        event_id = str(receipt.event.pk)
        transaction.on_commit(lambda: inbound_webhook_process_task.delay(event_id))
    return JsonResponse({"event": str(receipt.event.pk), "duplicate": receipt.duplicate,
                         "status": receipt.event.status}, status=202)
