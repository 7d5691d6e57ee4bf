"""The steward console in a real browser: merge a potential match from its queue, and replay a dead letter.
Every step leaves a screenshot in tests/artifacts/."""

from selenium.webdriver.common.by import By

from canonical.models import Client, PotentialMatch
from connectors.models import Delivery, DeliveryStatus
from hub import roles
from stewardship.models import Resolution, StewardTask, TaskKind, TaskStatus
from tests.browser.conftest import click, click_and_wait, log_in, wait_for
from tests.factories.canonical import potential_match_pair
from tests.stewardship.admin.scenarios import CORRELATION_ID, dead_letter, deliver_due, hub_accounts, person


def test_a_steward_merges_a_potential_match_keeping_one_value_and_reads_the_history(
        live_server, transactional_db, browser, screenshot):
    # given: two copies of one publisher in the grey zone, and a steward
    potential_match_pair()
    match = PotentialMatch.objects.get()
    a, b = Client.objects.get(pk=match.record_a), Client.objects.get(pk=match.record_b)
    erp, crm = (a, b) if a.legal_name.endswith("GmbH") else (b, a)
    erp_side, crm_side = ("a", "b") if erp is a else ("b", "a")
    person("sam", roles.STEWARD)

    # when: the steward signs in, refreshes the queues and opens the potential-match queue
    log_in(browser, live_server.url, "sam")
    screenshot("01-admin-index")
    click_and_wait(browser, "#steward-queues a[href*='kind=potential_match']")
    click_and_wait(browser, "button.sc-tool")  # run the sweeps now
    wait_for(browser, "#result_list")
    screenshot("02-potential-match-queue")
    assert "Possible duplicate client" in browser.find_element(By.ID, "result_list").text

    # ...compares the pair, keeps the CRM's name on the ERP's record, and merges
    click_and_wait(browser, "#result_list a.sc-button")
    wait_for(browser, "table.sc-compare")
    screenshot("03-compare")
    page = browser.find_element(By.CSS_SELECTOR, "table.sc-compare").text
    assert erp.golden_id in page and crm.golden_id in page and "Lucerne Publishing GmbH" in page
    legal_name = browser.find_element(By.CSS_SELECTOR, "tr[data-attribute=legal_name]")
    assert "sc-conflict" in legal_name.get_attribute("class")
    click(browser, f"input[name=survivor][value={erp_side}]")
    click(browser, f"input[name=keep_legal_name][value={crm_side}]")
    browser.find_element(By.ID, "id_reason").send_keys("same publisher: one VAT registration")
    screenshot("04-choices-made")
    click_and_wait(browser, "#merge-button")

    # then: the surviving golden record's page, with the merge's outcome, its sources and lineage
    wait_for(browser, "#sources")
    screenshot("05-golden-record")
    assert browser.current_url.endswith(f"/admin/canonical/client/{erp.pk}/change/")
    assert f"Merged into {erp.golden_id}" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    sources = browser.find_element(By.ID, "sources").text
    assert "pm-1" in sources and "pm-2" in sources and "netsuite" in sources and "salesforce" in sources
    assert sources.count("active") == 2 and f"Also known as {crm.golden_id}" in sources
    assert len(browser.find_elements(By.LINK_TEXT, "Unmerge this source…")) == 2
    kept = browser.find_element(By.CSS_SELECTOR, "#lineage tr[data-attribute=legal_name]").text
    assert "Lucerne Publishing" in kept and "sam (steward)" in kept and "steward override" in kept
    postcode = browser.find_element(By.CSS_SELECTOR, "#lineage tr[data-attribute=billing_postcode]").text
    assert "10115" in postcode and "netsuite pm-1" in postcode and "source priority" in postcode
    survivor = Client.objects.get(pk=erp.pk)
    assert survivor.legal_name == "Lucerne Publishing"
    assert Client.objects.get(pk=crm.pk).merged_into_id == erp.pk

    # ...and its history tells who merged what, and why
    click_and_wait(browser, "a.historylink")
    wait_for(browser, "#change-history")
    screenshot("06-history")
    merges = browser.find_element(By.ID, "merges").text
    assert f"merged {crm.golden_id} into {erp.golden_id} by sam: same publisher: one VAT registration" in merges
    assert f"kept from {crm.golden_id} at merge" in browser.find_element(By.ID, "change-history").text
    task = StewardTask.objects.get(kind=TaskKind.POTENTIAL_MATCH)
    assert (task.status, task.resolution, task.resolved_by.username) == (TaskStatus.RESOLVED, Resolution.MERGED,
                                                                         "sam")


def test_a_steward_replays_a_dead_letter_and_the_task_resolves_once_delivered(
        live_server, transactional_db, browser, screenshot, serve_wsgi, monkeypatch):
    # given: a client the CRM refused until its delivery went to the dead letters (the CRM is healthy again)
    emulator, client, task = dead_letter(serve_wsgi, monkeypatch)
    person("sam", roles.STEWARD)

    # when: the steward opens the sync-failure queue and the task
    log_in(browser, live_server.url, "sam")
    click_and_wait(browser, "#steward-queues a[href*='kind=sync_failure']")
    wait_for(browser, "#result_list")
    screenshot("01-sync-failure-queue")
    click_and_wait(browser, "#result_list a.sc-button")
    wait_for(browser, "#failure")
    screenshot("02-task")
    assert "503" in browser.find_element(By.ID, "platform-error").text
    assert browser.find_element(By.ID, "correlation-id").text == CORRELATION_ID
    assert "Wingtip Toys Limited" in browser.find_element(By.ID, "payload").text

    # ...replays it
    click_and_wait(browser, "#replay-button")
    wait_for(browser, "ul.messagelist")
    screenshot("03-replayed")
    assert "Replay queued" in browser.find_element(By.CSS_SELECTOR, "ul.messagelist").text
    assert Delivery.objects.get().status == DeliveryStatus.PENDING

    # ...the worker delivers it, and the steward refreshes the queues
    delivered = deliver_due()
    browser.get(f"{live_server.url}/admin/stewardship/stewardtask/?kind=sync_failure")
    click_and_wait(browser, "button.sc-tool")
    wait_for(browser, "#result_list, p.paginator")
    screenshot("04-queue-after-sweep")
    browser.get(f"{live_server.url}/admin/stewardship/stewardtask/{task.pk}/change/")
    wait_for(browser, "#summary")
    screenshot("05-task-resolved")

    # then: delivered, in the CRM, and the task resolved as replayed
    assert [d.status for d in delivered] == [DeliveryStatus.DELIVERED]
    assert client.golden_id in hub_accounts(emulator)
    assert "Resolved: Replayed and delivered" in browser.find_element(By.ID, "summary").text
    task.refresh_from_db()
    assert (task.status, task.resolution) == (TaskStatus.RESOLVED, Resolution.REPLAYED)
