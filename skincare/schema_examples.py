"""Request and response examples of the main mobile flows, by operation id.

Register, sign in, upload a photo, read the analysis, book a consultation. Bodies
are real answers trimmed for length; `skincare/tests/test_schema.py` validates each
one against the schema of the body it illustrates, so a changed serializer that
leaves its example behind fails the suite.
"""

USER_ID = "bd2b23ba-6171-4438-91df-4e14060feaa2"
ANALYSIS_ID = "083102ac-886a-4602-b096-70f061910ed0"
DERMATOLOGIST_ID = "5f0c2a7e-1f7b-4a59-9a43-2b8f6a0e9c11"
CONSULTATION_ID = "9c6f3b52-7d0e-4c8a-b1f4-6a2e8d9b0c37"
PASSWORD = "a-Decent-passphrase-42"  # noqa: S105 (the documentation's example)

PROFILE = {
    "id": USER_ID,
    "email": "ada@example.com",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "timezone": "Europe/London",
    "language": "en",
    "role": "patient",
    "email_verified": False,
    "pending_email": None,
    "date_joined": "2026-11-30T18:23:59.473998Z",
    "declared_skin_type": "",
    "concerns": [],
    "sensitivities": [],
    "fitzpatrick_type": None,
    "date_of_birth": None,
    "pregnant_or_breastfeeding": False,
    "consent_photo_analysis": False,
    "consent_photo_analysis_at": None,
    "consent_share_with_dermatologists": False,
    "consent_share_with_dermatologists_at": None,
    "consent_marketing": False,
    "consent_marketing_at": None,
}


def _error(error_type: str, code: str, detail: str, attr: str | None = None) -> dict:
    return {
        "type": error_type,
        "errors": [{"code": code, "detail": detail, "attr": attr}],
    }


COMPLETED_ANALYSIS = {
    "id": ANALYSIS_ID,
    "status": "completed",
    "created_at": "2026-11-30T18:24:01.276546Z",
    "updated_at": "2026-11-30T18:24:01.994658Z",
    "completed_at": "2026-11-30T18:24:01.994658Z",
    "has_photo": True,
    "photo_url": f"/api/v1/analyses/{ANALYSIS_ID}/photo/",
    "photo_deleted_at": None,
    "skin_type": "dry",
    "profile": {
        "skin_type": "dry",
        "skin_type_source": "photo",
        "sensitive": False,
        "sensitive_source": "photo",
        "profile": "DRNT",
    },
    "scores": {
        "redness": {
            "score": 21,
            "band": "low",
            "severe": False,
            "confidence": 0.85,
            "explanation": "We measured the redness that blood gives your skin on "
            "the cheeks, nose, forehead and chin: 6.5; higher values mean redder "
            "skin.",
            "regions": {
                "forehead": {"value": 3.8939, "score": 17},
                "cheek_left": {"value": 5.6953, "score": 20},
            },
        },
        "texture": {
            "score": 38,
            "band": "moderate",
            "severe": False,
            "confidence": 0.85,
            "explanation": "We measured fine detail in the skin's brightness (pores, "
            "roughness) on the forehead, cheeks, nose and chin: 1.39 units.",
            "regions": {"forehead": {"value": 2.5753, "score": 80}},
        },
    },
    "quality": [
        {
            "code": "sharpness",
            "passed": True,
            "value": 182.4,
            "limit": 60.0,
            "advice": "",
        }
    ],
    "failure_code": "",
    "failure_advice": "",
    "see_dermatologist": {
        "recommended": False,
        "reason": None,
        "concerns": [],
        "dermatologists_path": "/api/v1/dermatologists/",
        "booking_path": "/api/v1/consultations/",
    },
    "disclaimer": "This analysis gives cosmetic guidance from a photo. It is not a "
    "medical diagnosis; see a dermatologist about any skin change that worries you.",
    "engine_version": "2.2.0",
}

# operation id -> {"request": {media type: examples}, "<status>": examples}; each
# example is {"summary": ..., "value": ...}.
EXAMPLES: dict[str, dict] = {
    "register": {
        "request": {
            "application/json": {
                "new_patient": {
                    "summary": "A new patient in London",
                    "value": {
                        "email": "ada@example.com",
                        "password": PASSWORD,
                        "first_name": "Ada",
                        "last_name": "Lovelace",
                        "timezone": "Europe/London",
                    },
                }
            }
        },
        "201": {"created": {"summary": "The new account", "value": PROFILE}},
        "400": {
            "email_taken": {
                "summary": "The address already has an account",
                "value": _error(
                    "validation_error",
                    "email_taken",
                    "An account with this e-mail address already exists.",
                    "email",
                ),
            },
            "invalid_timezone": {
                "summary": "Not an IANA time zone name",
                "value": _error(
                    "validation_error",
                    "invalid_choice",
                    '"Mars/Olympus_Mons" is not an IANA time zone name such as '
                    '"Europe/Paris".',
                    "timezone",
                ),
            },
        },
    },
    "sign_in": {
        "request": {
            "application/json": {
                "credentials": {
                    "summary": "E-mail and password",
                    "value": {"email": "ada@example.com", "password": PASSWORD},
                }
            }
        },
        "200": {
            "tokens": {
                "summary": "Send `access` as `Authorization: Bearer <access>`",
                "value": {
                    "access": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBl"
                    "IjoiYWNjZXNzIn0.c2lnbmF0dXJl",
                    "refresh": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXB"
                    "lIjoicmVmcmVzaCJ9.c2lnbmF0dXJl",
                },
            }
        },
        "401": {
            "wrong_credentials": {
                "summary": "Unknown address or wrong password",
                "value": _error(
                    "client_error",
                    "no_active_account",
                    "No active account found with the given credentials",
                ),
            }
        },
    },
    "create_analysis": {
        "request": {
            "multipart/form-data": {
                "photo": {
                    "summary": "A face photo (multipart, field `photo`)",
                    "value": {"photo": "(the JPEG, PNG or HEIC bytes)"},
                }
            },
            "application/json": {
                "questionnaire_only": {
                    "summary": "Questionnaire answers alone",
                    "value": {"questionnaire": {"skin_feel_midday": "shiny_all_over"}},
                }
            },
        },
        "202": {
            "accepted": {
                "summary": "Accepted: poll GET analyses/{id}/",
                "value": {"id": ANALYSIS_ID, "status": "pending"},
            }
        },
        "403": {
            "no_consent": {
                "summary": "PATCH users/me/ with consent_photo_analysis first",
                "value": _error(
                    "client_error",
                    "photo_consent_required",
                    "Consent to photo analysis is needed before uploading a photo.",
                ),
            }
        },
    },
    "get_analysis": {
        "200": {
            "pending": {
                "summary": "Still waiting for a worker",
                "value": {
                    **COMPLETED_ANALYSIS,
                    "status": "pending",
                    "completed_at": None,
                    "skin_type": "",
                    "profile": None,
                    "scores": {},
                    "quality": [],
                    "engine_version": "",
                },
            },
            "completed": {
                "summary": "Completed, with per-concern scores",
                "value": COMPLETED_ANALYSIS,
            },
        }
    },
    "book_consultation": {
        "request": {
            "application/json": {
                "video_call": {
                    "summary": "A free slot from dermatologists/{id}/slots/",
                    "value": {
                        "dermatologist": DERMATOLOGIST_ID,
                        "start": "2026-12-07T09:30:00+00:00",
                        "type": "video",
                        "reason": "Redness on both cheeks for two months.",
                        "analyses": [ANALYSIS_ID],
                        "consent_share_with_dermatologists": True,
                    },
                }
            }
        },
        "201": {
            "requested": {
                "summary": "Booked; the dermatologist confirms or declines",
                "value": {
                    "id": CONSULTATION_ID,
                    "dermatologist": {
                        "id": DERMATOLOGIST_ID,
                        "name": "Dr Mary Somerville",
                        "timezone": "Europe/London",
                    },
                    "type": "video",
                    "start": "2026-12-07T09:30:00+00:00",
                    "end": "2026-12-07T09:50:00+00:00",
                    "status": "requested",
                    "fee": "60.00",
                    "currency": "EUR",
                    "reason": "Redness on both cheeks for two months.",
                    "decline_reason": "",
                    "notes": "",
                    "recommended_routine": "",
                    "shared_analyses": [ANALYSIS_ID],
                    "shares": [
                        {
                            "analysis": ANALYSIS_ID,
                            "consent_given_at": "2026-11-30T18:30:00Z",
                            "shared_at": "2026-11-30T18:30:00Z",
                            "revoked_at": None,
                        }
                    ],
                    "created_at": "2026-11-30T18:30:00Z",
                    "updated_at": "2026-11-30T18:30:00Z",
                },
            }
        },
        "409": {
            "slot_taken": {
                "summary": "Someone else booked the slot first",
                "value": _error(
                    "client_error", "slot_taken", "This time slot was just taken."
                ),
            }
        },
    },
}
