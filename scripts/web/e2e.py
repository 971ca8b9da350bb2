"""The web app in a real browser: headless Chromium through selenium, axe-core on every page.

Usage: e2e.py BASE_URL CLINIC PASSWORD (scripts/web-e2e runs it against a fresh `ward serve`
whose users the ward CLI made). Fixtures the pages need (a practitioner, patients) are added
through the API as the clinic's administrator. Each step asserts what a member of staff sees;
any serious or critical accessibility violation fails the run.
"""

import datetime
import json
import os
import sys
import tempfile
import time
import urllib.error
import urllib.request

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, clinic, password = sys.argv[1:4]
screenshots = os.environ.get("WARD_E2E_SCREENSHOTS")
pages_checked = []


def api(method, path, body=None, token=None, headers=None):
    request = urllib.request.Request(base + path, method=method, data=None if body is None else json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    request.add_header("X-Tenant-ID", clinic)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null"), response.headers
    except urllib.error.HTTPError as error:
        sys.exit(f"e2e: fixture {method} {path} answered {error.code}: {error.read().decode()}")


admin_token = api("POST", "/api/v1/auth/login", {"email": "admin@riverside.example", "password": password})[0]["access_token"]
doctor, _ = api("POST", "/api/v1/practitioners", {"name": "Dr. Lena Park", "specialty": "General practice"}, admin_token)
api("POST", "/api/v1/practitioners", {"name": "Dr. Dana Whitfield", "licence_number": "GMC-7012345", "email": "doctor@riverside.example"}, admin_token)
ingrid, _ = api("POST", "/api/v1/patients", {"given_name": "Ingrid", "family_name": "Johansson", "birth_date": "1980-04-02",
                                            "phone": "+44 20 7946 0101"}, admin_token)
tomas, _ = api("POST", "/api/v1/patients", {"given_name": "Tomas", "family_name": "Novak", "birth_date": "1975-11-19"}, admin_token)
for given, family in [("Amara", "Okafor"), ("Kwame", "Mensah"), ("Mira", "Sato"), ("Priya", "Raman")]:
    api("POST", "/api/v1/patients", {"given_name": given, "family_name": family}, admin_token)


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=en-GB"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def accessible(driver, name):
    """axe-core on the page as shown; serious and critical violations fail the run."""
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    bad = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    check(not bad, f"{name}: accessibility violations: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at " + ", ".join(node["html"][:120] for node in v["nodes"][:3]) for v in bad))
    pages_checked.append(name)
    if screenshots:
        os.makedirs(screenshots, exist_ok=True)
        driver.execute_script("window.scrollTo(0, 0)")
        driver.save_screenshot(os.path.join(screenshots, f"{name}.png"))


def wait_for(driver, condition, seconds=10):
    # A condition checked while a submitted form's next page replaces the current one can find
    # an element of the old document that is gone a moment later: Chromium reports that as a
    # stale element or as "Node ... does not belong to the document". Either means "not yet".
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(condition)


def sign_in(driver, email):
    driver.get(base + "/app")
    wait_for(driver, EC.url_contains("/app/sign-in"))
    driver.find_element(By.ID, "field-clinic").send_keys(clinic)
    driver.find_element(By.ID, "field-email").send_keys(email)
    driver.find_element(By.ID, "field-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/sign-in'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "form.sign-out")))


def sign_out(driver):
    driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    wait_for(driver, EC.url_contains("signed_out=1"))
    check("You have signed out." in driver.page_source, "sign-out: no confirmation")


def step(name):
    print(f"e2e: {name}", flush=True)


def fetch_as(driver, path):
    """`path` fetched with the browser's session cookie: what a download link gives the user."""
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    request = urllib.request.Request(base + path, headers={"Cookie": cookie})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers.get("Content-Type"), response.read()


driver = browser()
try:
    step("the sign-in page, then a wrong password")
    driver.get(base + "/app")
    wait_for(driver, EC.url_contains("/app/sign-in"))
    accessible(driver, "sign-in")
    driver.find_element(By.ID, "field-clinic").send_keys(clinic)
    driver.find_element(By.ID, "field-email").send_keys("desk@riverside.example")
    driver.find_element(By.ID, "field-password").send_keys("not-the-password")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/sign-in'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    check("The clinic, email or password is not right." in driver.page_source, "a wrong password is not explained")
    accessible(driver, "sign-in-refused")

    step("forgot your password? the link from the sign-in page")
    driver.find_element(By.LINK_TEXT, "Forgot your password?").click()
    wait_for(driver, EC.url_contains("/app/forgot-password"))
    accessible(driver, "forgot-password")
    driver.find_element(By.ID, "field-clinic").send_keys(clinic)
    driver.find_element(By.ID, "field-email").send_keys("desk@riverside.example")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/forgot-password'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.CSS_SELECTOR, "[role=status]")))
    check("a link to set a new password is on its way" in driver.page_source, "the request is not confirmed")
    accessible(driver, "forgot-password-sent")

    step("the receptionist signs in and finds a patient by a misspelled name, as she types")
    sign_in(driver, "desk@riverside.example")
    check("Robin Desk" in driver.page_source, "today: the user's name is not shown")
    accessible(driver, "today")
    driver.find_element(By.LINK_TEXT, "Patients").click()
    search = wait_for(driver, EC.presence_of_element_located((By.ID, "q")))
    search.send_keys("johanson")  # one letter short of Johansson; no Enter: the page searches as she types
    wait_for(driver, EC.text_to_be_present_in_element((By.ID, "patient-results"), "Johansson, Ingrid"))
    check(driver.find_element(By.ID, "patient-results").get_attribute("aria-live") == "polite", "results are not announced")
    accessible(driver, "patient-search")

    step("she opens the chart and edits it while someone else saves first")
    driver.find_element(By.LINK_TEXT, "Johansson, Ingrid").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "field-family-name")))
    accessible(driver, "patient-chart")
    # Someone else changes the record through the API (version 1 → 2) while the form is open.
    api("PATCH", f"/api/v1/patients/{ingrid['id']}", {"phone": "+44 20 7946 0999"}, admin_token, {"If-Match": '"1"'})
    family = driver.find_element(By.ID, "field-family-name")
    family.clear()
    family.send_keys("Johansson-Berg")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/patients/{ingrid['id']}'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "form-problem")))
    check("Someone else changed this record while you were editing it." in driver.page_source, "the stale version is not explained")
    check("+44 20 7946 0999" in driver.page_source, "the other user's change is not shown")
    check(driver.find_element(By.ID, "field-family-name").get_attribute("value") == "Johansson-Berg", "the user's edit was lost")
    check(driver.find_element(By.ID, "field-phone").get_attribute("value") == "+44 20 7946 0999", "the form would write back the stale phone")
    accessible(driver, "patient-chart-conflict")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/patients/{ingrid['id']}'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Changes saved."))
    check(driver.find_element(By.TAG_NAME, "h1").text == "Ingrid Johansson-Berg", "the saved name is not shown")
    check("+44 20 7946 0999" in driver.page_source, "saving after the conflict undid the other user's change")

    step("she books an appointment, then tries the same slot for another patient")
    driver.find_element(By.LINK_TEXT, "Book an appointment").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "field-practitioner-id")))
    accessible(driver, "book-appointment")

    def book(start):
        Select(driver.find_element(By.ID, "field-practitioner-id")).select_by_visible_text("Dr. Lena Park, General practice")
        driver.execute_script("arguments[0].value = arguments[1]", driver.find_element(By.ID, "field-start"), start)
        Select(driver.find_element(By.ID, "field-minutes")).select_by_visible_text("30 minutes")
        driver.find_element(By.ID, "field-reason").send_keys("Review")
        driver.find_element(By.CSS_SELECTOR, "form[action='/app/appointments'] button[type=submit]").click()

    book("2026-12-10T09:00")
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Appointment booked."))
    driver.get(f"{base}/app/appointments/new?patient_id={tomas['id']}")
    book("2026-12-10T09:15")
    wait_for(driver, EC.presence_of_element_located((By.ID, "form-problem")))
    check("This slot is taken by the appointment of Johansson-Berg, Ingrid, 09:00–09:30." in driver.page_source,
          "the double booking does not name the appointment holding the slot")
    accessible(driver, "book-appointment-taken")
    sign_out(driver)
    accessible(driver, "signed-out")

    step("the doctor finds a medication by a misspelt name, prescribes, and gets the sheet to print")
    sign_in(driver, "doctor@riverside.example")
    driver.get(f"{base}/app/patients/{ingrid['id']}")
    driver.find_element(By.LINK_TEXT, "Prescribe").click()
    formulary = wait_for(driver, EC.presence_of_element_located((By.ID, "formulary-q")))
    formulary.send_keys("amoxicilin")
    driver.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait_for(driver, EC.url_contains("q=amoxicilin"))
    medication = Select(wait_for(driver, EC.presence_of_element_located((By.ID, "field-items-0--medication-id"))))
    check(medication.options[1].text.startswith("Amoxicillin"), "the formulary search does not offer Amoxicillin first")
    accessible(driver, "prescribe")
    medication.select_by_index(1)
    driver.find_element(By.ID, "field-items-0--dose").send_keys("1 capsule")
    driver.find_element(By.ID, "field-items-0--frequency").send_keys("three times a day")
    driver.find_element(By.ID, "field-items-0--duration-days").send_keys("7")
    driver.find_element(By.ID, "field-items-0--quantity").send_keys("21")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/patients/{ingrid['id']}/prescriptions'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Prescription issued."))
    check("Amoxicillin 500 mg capsule" in driver.page_source and "licence GMC-7012345" in driver.page_source, "the sheet lacks the item or the licence")
    accessible(driver, "prescription")
    pdf_link = driver.find_element(By.LINK_TEXT, "Download as PDF").get_attribute("href")
    content_type, body = fetch_as(driver, pdf_link.replace(base, ""))
    check(content_type == "application/pdf" and body.startswith(b"%PDF-"), f"the prescription's PDF link gives {content_type}")

    step("the doctor files a referral letter into the chart; a file that is not what its name says is refused; the letter opens")
    folder = tempfile.mkdtemp(prefix="ward-e2e-")
    letter, fake = os.path.join(folder, "referral.pdf"), os.path.join(folder, "scan.pdf")
    with open(letter, "wb") as out:
        out.write(body)
    with open(fake, "wb") as out:
        out.write(b"MZ\x90\x00 not a PDF at all")

    def file_document(path, title):
        driver.get(f"{base}/app/patients/{ingrid['id']}")
        driver.find_element(By.ID, "document-title").send_keys(title)
        Select(driver.find_element(By.ID, "document-category")).select_by_value("referral")
        driver.find_element(By.ID, "document-file").send_keys(path)
        driver.find_element(By.CSS_SELECTOR, f"form[action='/app/patients/{ingrid['id']}/documents'] button[type=submit]").click()

    file_document(letter, "Referral from Dr. Osei")
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Document filed."))
    link = driver.find_element(By.LINK_TEXT, "Referral from Dr. Osei")
    check("Referral" in driver.page_source and "PDF" in driver.page_source, "the chart does not list the filed letter")
    accessible(driver, "patient-documents")
    content_type, opened = fetch_as(driver, link.get_attribute("href").replace(base, ""))
    check(content_type == "application/pdf" and opened == body, f"the filed letter opens as {content_type}, {len(opened)} bytes")
    file_document(fake, "Scanned form")
    problem = wait_for(driver, EC.presence_of_element_located((By.ID, "form-problem")))
    check("The document was not filed" in problem.text, f"the refusal says: {problem.text}")
    check("Scanned form" not in [a.text for a in driver.find_elements(By.CSS_SELECTOR, "section[aria-labelledby=documents-heading] a")],
          "the refused file is listed")
    accessible(driver, "document-refused")
    sign_out(driver)

    step("the nurse sees no users and roles and no billing, and is refused the pages by the server")
    sign_in(driver, "nurse@riverside.example")
    check(not driver.find_elements(By.LINK_TEXT, "Users and roles"), "the nurse's menu offers users and roles")
    check(not driver.find_elements(By.LINK_TEXT, "Billing"), "the nurse's menu offers billing")
    driver.get(base + "/app/billing")
    check("You do not have access to this page" in driver.page_source, "the server shows the nurse what is owed")
    driver.get(base + "/app/users")
    check("You do not have access to this page" in driver.page_source, "the server shows the nurse the users page")
    accessible(driver, "forbidden")
    sign_out(driver)

    step("the administrator's users and roles")
    sign_in(driver, "admin@riverside.example")
    driver.find_element(By.LINK_TEXT, "Users and roles").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Users and roles"))
    check("nurse@riverside.example" in driver.page_source, "users are not listed")
    accessible(driver, "users")
    step("the administrator rewords the reminder email, previews and saves it")
    driver.find_element(By.LINK_TEXT, "Emails").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Emails"))
    accessible(driver, "emails")
    driver.find_element(By.LINK_TEXT, "appointment_reminder").click()
    subject = wait_for(driver, EC.presence_of_element_located((By.ID, "field-subject")))
    accessible(driver, "email-wording")
    subject.clear()
    subject.send_keys("See you soon at {{clinic}}")
    driver.find_element(By.CSS_SELECTOR, "button[name=action][value=preview]").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "preview-heading")))
    check("See you soon at North Clinic" in driver.page_source, "the preview does not show the new subject")
    accessible(driver, "email-preview")
    driver.find_element(By.CSS_SELECTOR, "button[name=action][value=save]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "is saved"))
    check("The clinic's own" in driver.page_source, "the list does not show the clinic's wording")
    step("the administrator takes a payment at the desk: too much is refused, part of it recorded with its receipt")
    invoice = api("POST", "/api/v1/invoices", {"patient_id": ingrid["id"], "lines": [
        {"description": "Consultation", "unit_amount": 6000, "tax_rate_bp": 2000}]}, admin_token)[0]
    issued = api("POST", f"/api/v1/invoices/{invoice['id']}/issue", None, admin_token)[0]
    driver.find_element(By.LINK_TEXT, "Billing").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Billing"))
    check("72.00 USD" in driver.page_source, "the outstanding list does not show the balance")
    accessible(driver, "billing")
    driver.find_element(By.LINK_TEXT, issued["number"]).click()
    amount = wait_for(driver, EC.presence_of_element_located((By.ID, "field-amount")))
    accessible(driver, "invoice")
    amount.send_keys("100")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/billing/invoices/{invoice['id']}/payments'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "form-problem")))
    check("The payment was not recorded" in driver.page_source, "an overpayment is not refused")
    accessible(driver, "invoice-payment-refused")
    amount = driver.find_element(By.ID, "field-amount")
    amount.clear()
    amount.send_keys("50.00")
    driver.find_element(By.CSS_SELECTOR, f"form[action='/app/billing/invoices/{invoice['id']}/payments'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "The payment was recorded."))
    check("22.00 USD" in driver.page_source and "partially paid" in driver.page_source, "the balance after the payment is not shown")
    check("Payment (cash)" in driver.page_source, "the payment is not listed")
    kind, body = fetch_as(driver, f"/app/billing/invoices/{invoice['id']}/pdf")
    check(kind == "application/pdf" and body.startswith(b"%PDF-"), "the invoice PDF is not a PDF")
    step("the administrator at the parking gate: a reserved car checked in by its plate as typed, then out")
    garage = api("POST", "/api/v1/parking/facilities", {"name": "Main car park", "time_zone": "Europe/London"}, admin_token)[0]
    level = api("POST", f"/api/v1/parking/facilities/{garage['id']}/zones",
                {"name": "Level 0", "kind": "patient", "hourly_rate": 250, "daily_cap": 1500, "free_minutes": 30}, admin_token)[0]
    spot = api("POST", f"/api/v1/parking/zones/{level['id']}/spots", {"codes": ["P1", "P2"], "kind": "standard"}, admin_token)[0]["items"][0]
    car = api("POST", "/api/v1/parking/vehicles", {"plate": "KX21 ABC", "country": "GB", "owner_type": "patient", "owner_id": ingrid["id"]}, admin_token)[0]
    soon = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    api("POST", "/api/v1/parking/bookings", {"vehicle_id": car["id"], "spot_id": spot["id"],
        "starts_at": (soon + datetime.timedelta(minutes=10)).isoformat().replace("+00:00", "Z"),
        "ends_at": (soon + datetime.timedelta(hours=2)).isoformat().replace("+00:00", "Z")}, admin_token)
    driver.find_element(By.LINK_TEXT, "Parking").click()
    plate = wait_for(driver, EC.presence_of_element_located((By.ID, "field-plate")))
    check("KX21ABC" in driver.page_source, "the reservation is not listed")
    accessible(driver, "parking")
    plate.send_keys("zz-99-zzz")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/parking/gate'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "form-problem")))
    check("The gate did not open" in driver.page_source, "a plate with no reservation is not refused")
    accessible(driver, "parking-refused")
    plate = driver.find_element(By.ID, "field-plate")
    plate.clear()
    plate.send_keys("kx21-abc")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/parking/gate'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Checked in."))
    occupied = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table tbody tr") if row.text.startswith("Level 0")]
    check(occupied and occupied[0].split()[-3] == "1", f"the zone does not show the car: {occupied}")
    driver.find_element(By.ID, "field-plate").send_keys("KX21ABC")
    Select(driver.find_element(By.ID, "field-action")).select_by_value("out")
    driver.find_element(By.CSS_SELECTOR, "form[action='/app/parking/gate'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.CSS_SELECTOR, "[role=status]"), "Checked out"))
    step("the administrator's staff permit on the attendant's screen, and the car park's daily report")
    staff = [u for u in api("GET", "/api/v1/users", None, admin_token)[0]["items"]][0]
    staff_car = api("POST", "/api/v1/parking/vehicles", {"plate": "ST4 FFX", "country": "GB", "owner_type": "user", "owner_id": staff["id"]}, admin_token)[0]
    staff_zone = api("POST", f"/api/v1/parking/facilities/{garage['id']}/zones",
                     {"name": "Staff deck", "kind": "staff", "hourly_rate": 0, "daily_cap": 0}, admin_token)[0]
    api("POST", "/api/v1/parking/permits", {"vehicle_id": staff_car["id"], "facility_id": garage["id"], "zone_id": staff_zone["id"],
        "days": ["mon", "tue", "wed", "thu", "fri"], "from_time": "07:00", "until_time": "19:00",
        "valid_from": "2026-01-01", "valid_until": "2028-12-31"}, admin_token)
    driver.get(base + "/app/parking")
    check("ST4FFX" in driver.page_source and "Staff permits" in driver.page_source, "the permit is not listed")
    driver.find_element(By.LINK_TEXT, "The day's report").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "field-date")))
    check("Parking report: Main car park" in driver.find_element(By.TAG_NAME, "h1").text, "the report shows no heading")
    rows = [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table tbody tr") if row.text.startswith("Level 0")]
    check(rows and rows[0].split()[7] == "1", f"the day's check-in is not counted: {rows}")
    accessible(driver, "parking-report")
    for page, name in [("/app/calendar", "calendar"), ("/app/reports", "reports"), ("/app/audit", "audit-trail")]:
        driver.get(base + page)
        check(driver.find_element(By.TAG_NAME, "h1").text, f"{page} shows no heading")
        accessible(driver, name)
    driver.get(f"{base}/app/calendar?day=2026-12-10")
    check("Johansson-Berg, Ingrid" in driver.page_source, "the calendar does not show the booked appointment")
    driver.get(base + "/app/no-such-page")
    check("Page not found" in driver.page_source, "an unknown page is not a page")
    accessible(driver, "not-found")

    step("the console: an operator provisions a tenant and sees each step")
    driver.get(base + "/console")
    wait_for(driver, EC.url_contains("/console/sign-in"))
    accessible(driver, "console-sign-in")
    driver.find_element(By.ID, "field-email").send_keys("ops@ward.example")
    driver.find_element(By.ID, "field-password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/sign-in'] button[type=submit]").click()
    wait_for(driver, EC.text_to_be_present_in_element((By.TAG_NAME, "h1"), "Tenants"))
    check("Riverside Clinic" in driver.page_source, "the console does not list the clinic")
    accessible(driver, "console-tenants")
    driver.find_element(By.LINK_TEXT, "Provision a tenant").click()
    wait_for(driver, EC.presence_of_element_located((By.ID, "field-slug")))
    accessible(driver, "console-provision")
    driver.find_element(By.ID, "field-name").send_keys("Northside Clinic")
    driver.find_element(By.ID, "field-slug").send_keys("northside")
    timezone = driver.find_element(By.ID, "field-timezone")
    timezone.clear()
    timezone.send_keys("Europe/Oslo")
    driver.find_element(By.ID, "field-admin-name").send_keys("Dr Head")
    driver.find_element(By.ID, "field-admin-email").send_keys("head@northside.example")
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/tenants'] button[type=submit]").click()
    wait_for(driver, EC.url_contains("/console/tenants/northside"))
    # The steps region refreshes itself until the tenant is active (the worker runs in `ward serve`).
    wait_for(driver, EC.text_to_be_present_in_element((By.ID, "steps"), "activate"), 30)
    steps = driver.find_element(By.ID, "steps").text
    for name in ["reserve_slug", "create_database", "migrate", "seed", "create_admin", "queue_welcome_email", "activate"]:
        check(name in steps, f"the console does not show the step {name}")
    check("Status: active" in steps, "the tenant is not shown active")
    accessible(driver, "console-tenant")
    driver.find_element(By.CSS_SELECTOR, "form.sign-out button").click()
    wait_for(driver, EC.url_contains("/console/sign-in?signed_out=1"))

    step("on a phone-sized screen the today page still works (the clinic session is still open)")
    driver.set_window_size(390, 844)
    driver.get(base + "/app")
    accessible(driver, "today-phone")
    driver.set_window_size(1280, 900)

    step("idle: the warning a minute before the end, 'Stay signed in', then the end")
    driver.get(base + "/app")
    warning = driver.find_element(By.ID, "idle-warning")
    check(not warning.is_displayed(), "the idle warning shows at once")
    wait_for(driver, EC.visibility_of(warning), 30)  # 75 s sessions: the warning at 15 s
    accessible(driver, "idle-warning")
    warning.find_element(By.TAG_NAME, "button").click()
    wait_for(driver, EC.invisibility_of_element(warning), 10)
    wait_for(driver, EC.url_contains("/app/sign-in"), 100)
    check("Your session ended." in driver.page_source, "the end of an idle session is not explained")
    driver.get(base + "/app")
    wait_for(driver, EC.url_contains("/app/sign-in"))
finally:
    driver.quit()

print(f"e2e: passed; axe found no serious or critical violation on {len(pages_checked)} pages: {', '.join(pages_checked)}")
