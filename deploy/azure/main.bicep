// repertory on Azure Container Apps: the API, CPU/index/GPU worker apps and the scheduler in one
// environment with Log Analytics; Azure Cache for Redis (or an external Redis); Azure Files for
// blobs and model weights. Workers scale on queue length (KEDA `redis` rules on the Dramatiq
// lists `dramatiq:<queue>`). See README.md beside this file.

targetScope = 'resourceGroup'

@description('Azure region of every resource.')
param location string = resourceGroup().location

@description('Prefix of resource names (lowercase letters and digits).')
@minLength(3)
@maxLength(12)
param namePrefix string = 'repertory'

@description('CPU image built from Dockerfile.cpu, e.g. myregistry.azurecr.io/repertory-cpu:1.0.')
param cpuImage string

@description('GPU image built from Dockerfile.gpu, e.g. myregistry.azurecr.io/repertory-gpu:1.0.')
param gpuImage string

@description('Container registry server; empty for a public registry.')
param registryServer string = ''

@description('Container registry user name.')
param registryUsername string = ''

@description('Container registry password.')
@secure()
param registryPassword string = ''

@description('Host name of an existing Redis 6+ / Valkey; empty deploys Azure Cache for Redis.')
param externalRedisHost string = ''

@description('Port of the external Redis.')
param externalRedisPort int = 6380

@description('Password of the external Redis.')
@secure()
param externalRedisPassword string = ''

@description('Connect to the external Redis with TLS (rediss://).')
param externalRedisTls bool = true

@description('Qdrant server URL (Qdrant Cloud or a self-hosted server on block storage).')
param qdrantUrl string

@description('Qdrant API key; empty when the server needs none.')
@secure()
param qdrantApiKey string = ''

@description('Serverless GPU workload profile type of the GPU worker.')
@allowed([
  'Consumption-GPU-NC8as-T4'
  'Consumption-GPU-NC24-A100'
])
param gpuWorkloadProfileType string = 'Consumption-GPU-NC8as-T4'

@description('open_clip architecture name.')
param clipModelName string = 'ViT-B-32'

@description('Checkpoint file name in the `models` file share (mounted read-only at /models).')
param clipCheckpointFile string = 'open_clip_model.safetensors'

@description('Target ready messages per replica for the KEDA queue-length rules.')
@minValue(1)
param queueLengthPerReplica int = 20

@description('Most CPU worker replicas.')
@minValue(1)
param cpuWorkerMaxReplicas int = 10

@description('Most GPU worker replicas (one GPU each).')
@minValue(1)
param gpuWorkerMaxReplicas int = 4

@description('Dramatiq graceful stop; replicas get this plus 15 s before they are killed.')
@minValue(1000)
@maxValue(585000)
param workerShutdownTimeoutMs int = 30000

@description('Broker heartbeat timeout: lower recovers crashed workers faster, but a stalled worker may run its messages twice.')
@minValue(500)
param redisHeartbeatTimeoutMs int = 60000

@description('Broker calls per million that run queue maintenance (10000 = 1%).')
@minValue(0)
@maxValue(1000000)
param redisMaintenanceChance int = 10000

// ------------------------------------------------------------------------------------ names
var suffix = uniqueString(resourceGroup().id, namePrefix)
var storageName = take('${namePrefix}${suffix}', 24)
var appUid = '10001'
var deployRedis = empty(externalRedisHost)
var gpuProfileName = 'gpu'
var gpuResources = {
  'Consumption-GPU-NC8as-T4': {
    cpu: '8.0'
    memory: '56Gi'
  }
  'Consumption-GPU-NC24-A100': {
    cpu: '24.0'
    memory: '220Gi'
  }
}
var terminationGraceSeconds = (workerShutdownTimeoutMs / 1000) + 15

// ------------------------------------------------------------------------------------ logs
resource logs 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

// ------------------------------------------------------------------------------------ redis
resource redisCache 'Microsoft.Cache/redis@2024-03-01' = if (deployRedis) {
  name: '${namePrefix}-redis-${suffix}'
  location: location
  properties: {
    sku: {
      name: 'Standard'
      family: 'C'
      capacity: 1
    }
    enableNonSslPort: false
    minimumTlsVersion: '1.2'
    redisVersion: '6'
    redisConfiguration: {
      'maxmemory-policy': 'noeviction'
    }
  }
}

var redisHost = deployRedis ? redisCache.properties.hostName : externalRedisHost
var redisPort = deployRedis ? redisCache.properties.sslPort : externalRedisPort
var redisPassword = deployRedis ? redisCache.listKeys().primaryKey : externalRedisPassword
var redisTls = deployRedis ? true : externalRedisTls
var redisScheme = redisTls ? 'rediss' : 'redis'
// Access keys are base64 ('+', '/', '='): escape them for the URL; redis-py unquotes them.
var redisUrl = '${redisScheme}://:${uriComponent(redisPassword)}@${redisHost}:${redisPort}/0'

// ------------------------------------------------------------------------------------ files
resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
  }
}

resource fileService 'Microsoft.Storage/storageAccounts/fileServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource blobsShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'blobs'
  properties: {
    shareQuota: 1024
  }
}

resource modelsShare 'Microsoft.Storage/storageAccounts/fileServices/shares@2023-05-01' = {
  parent: fileService
  name: 'models'
  properties: {
    shareQuota: 100
  }
}

// ------------------------------------------------------------------------------------ environment
resource env 'Microsoft.App/managedEnvironments@2024-03-01' = {
  name: '${namePrefix}-env'
  location: location
  properties: {
    appLogsConfiguration: {
      destination: 'log-analytics'
      logAnalyticsConfiguration: {
        customerId: logs.properties.customerId
        sharedKey: logs.listKeys().primarySharedKey
      }
    }
    workloadProfiles: [
      {
        name: 'Consumption'
        workloadProfileType: 'Consumption'
      }
      {
        name: gpuProfileName
        workloadProfileType: gpuWorkloadProfileType
      }
    ]
  }
}

resource blobsStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: env
  name: 'blobs'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: blobsShare.name
      accessMode: 'ReadWrite'
    }
  }
}

resource modelsStorage 'Microsoft.App/managedEnvironments/storages@2024-03-01' = {
  parent: env
  name: 'models'
  properties: {
    azureFile: {
      accountName: storage.name
      accountKey: storage.listKeys().keys[0].value
      shareName: modelsShare.name
      accessMode: 'ReadOnly'
    }
  }
}

// ------------------------------------------------------------------------------------ shared app config
var secrets = concat([
  {
    name: 'redis-url'
    value: redisUrl
  }
  {
    name: 'redis-address'
    value: '${redisHost}:${redisPort}'
  }
  {
    name: 'redis-password'
    value: redisPassword
  }
], empty(qdrantApiKey) ? [] : [
  {
    name: 'qdrant-api-key'
    value: qdrantApiKey
  }
], empty(registryServer) ? [] : [
  {
    name: 'registry-password'
    value: registryPassword
  }
])

var registries = empty(registryServer) ? [] : [
  {
    server: registryServer
    username: registryUsername
    passwordSecretRef: 'registry-password'
  }
]

var commonEnv = concat([
  {
    name: 'REDIS_URL'
    secretRef: 'redis-url'
  }
  {
    name: 'QDRANT_URL'
    value: qdrantUrl
  }
  {
    name: 'REPERTORY_QDRANT__MODE'
    value: 'server'
  }
  {
    name: 'REPERTORY_VAR_DIR'
    value: '/data'
  }
  {
    name: 'REPERTORY_CLIP__IMAGES__BLOB_DIR'
    value: '/data/blobs'
  }
  {
    name: 'REPERTORY_CLIP__MODEL_NAME'
    value: clipModelName
  }
  {
    name: 'REPERTORY_POOLS__SHUTDOWN_TIMEOUT_MS'
    value: string(workerShutdownTimeoutMs)
  }
  {
    name: 'REPERTORY_REDIS__HEARTBEAT_TIMEOUT_MS'
    value: string(redisHeartbeatTimeoutMs)
  }
  {
    name: 'REPERTORY_REDIS__MAINTENANCE_CHANCE'
    value: string(redisMaintenanceChance)
  }
  {
    name: 'HF_HUB_OFFLINE'
    value: '1'
  }
  {
    // One JSON object a line (job id, kind, queue, attempt, host, pid): Log Analytics
    // parses it into columns (see docs/deploy.md).
    name: 'REPERTORY_LOGGING__FORMAT'
    value: 'json'
  }
], empty(qdrantApiKey) ? [] : [
  {
    name: 'REPERTORY_QDRANT__API_KEY'
    secretRef: 'qdrant-api-key'
  }
])

var blobsVolume = {
  name: 'blobs'
  storageType: 'AzureFile'
  storageName: blobsStorage.name
  mountOptions: 'uid=${appUid},gid=${appUid},dir_mode=0750,file_mode=0640'
}

var blobsMount = {
  volumeName: 'blobs'
  mountPath: '/data'
}

// KEDA `redis` scaler: the Dramatiq Redis broker keeps each queue's ready message ids in the
// list `dramatiq:<queue>` (delayed retries in `dramatiq:<queue>.DQ`). Address and password
// come from secrets.
var redisScaleAuth = [
  {
    secretRef: 'redis-address'
    triggerParameter: 'address'
  }
  {
    secretRef: 'redis-password'
    triggerParameter: 'password'
  }
]

var redisScaleMetadata = {
  listLength: string(queueLengthPerReplica)
  enableTLS: redisTls ? 'true' : 'false'
  databaseIndex: '0'
}

// A pending retry only needs one replica awake to move it back to the queue when it is due.
var delayedScaleMetadata = union(redisScaleMetadata, {
  listLength: '1000'
})

// ------------------------------------------------------------------------------------ API
resource apiApp 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-api'
  location: location
  properties: {
    managedEnvironmentId: env.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: secrets
      registries: registries
      ingress: {
        external: true
        targetPort: 8000
        transport: 'http'
        allowInsecure: false
      }
    }
    template: {
      containers: [
        {
          name: 'api'
          image: cpuImage
          command: [
            'uvicorn'
          ]
          args: [
            '--factory'
            'api.main:create_app'
            '--host'
            '0.0.0.0'
            '--port'
            '8000'
            '--no-access-log'
          ]
          env: commonEnv
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          probes: [
            {
              type: 'Liveness'
              httpGet: {
                path: '/healthz'
                port: 8000
              }
              initialDelaySeconds: 10
              periodSeconds: 10
              failureThreshold: 3
            }
            {
              type: 'Readiness'
              httpGet: {
                path: '/readyz'
                port: 8000
              }
              initialDelaySeconds: 5
              periodSeconds: 10
              failureThreshold: 3
            }
          ]
          volumeMounts: [
            blobsMount
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 5
        rules: [
          {
            name: 'http'
            http: {
              metadata: {
                concurrentRequests: '50'
              }
            }
          }
        ]
      }
      volumes: [
        blobsVolume
      ]
    }
  }
}

// ------------------------------------------------------------------------------------ CPU workers
resource cpuWorkerApp 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-worker-cpu'
  location: location
  properties: {
    managedEnvironmentId: env.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: secrets
      registries: registries
    }
    template: {
      terminationGracePeriodSeconds: terminationGraceSeconds
      containers: [
        {
          name: 'worker-cpu'
          image: cpuImage
          command: [
            'repertory'
          ]
          args: [
            'worker'
            '--pool'
            'cpu'
          ]
          env: concat(commonEnv, [
            {
              name: 'REPERTORY_POOLS__CPU__PROCESSES'
              value: '2'
            }
          ])
          resources: {
            cpu: json('2.0')
            memory: '4Gi'
          }
          volumeMounts: [
            blobsMount
          ]
        }
      ]
      // One replica stays up: the cpu pool also serves webhooks and scheduled work.
      scale: {
        minReplicas: 1
        maxReplicas: cpuWorkerMaxReplicas
        rules: [
          {
            name: 'queue-solve'
            custom: {
              type: 'redis'
              metadata: union(redisScaleMetadata, {
                listName: 'dramatiq:solve'
              })
              auth: redisScaleAuth
            }
          }
          {
            name: 'queue-scrape'
            custom: {
              type: 'redis'
              metadata: union(redisScaleMetadata, {
                listName: 'dramatiq:scrape'
              })
              auth: redisScaleAuth
            }
          }
          {
            name: 'queue-http'
            custom: {
              type: 'redis'
              metadata: union(redisScaleMetadata, {
                listName: 'dramatiq:http'
              })
              auth: redisScaleAuth
            }
          }
        ]
      }
      volumes: [
        blobsVolume
      ]
    }
  }
}

// ------------------------------------------------------------------------------------ index worker
resource indexWorkerApp 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-worker-index'
  location: location
  properties: {
    managedEnvironmentId: env.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: secrets
      registries: registries
    }
    template: {
      terminationGracePeriodSeconds: terminationGraceSeconds
      containers: [
        {
          name: 'worker-index'
          image: cpuImage
          command: [
            'repertory'
          ]
          args: [
            'worker'
            '--pool'
            'index'
          ]
          env: commonEnv
          resources: {
            cpu: json('1.0')
            memory: '2Gi'
          }
          volumeMounts: [
            blobsMount
          ]
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 3
        rules: [
          {
            name: 'queue-index'
            custom: {
              type: 'redis'
              metadata: union(redisScaleMetadata, {
                listName: 'dramatiq:index'
              })
              auth: redisScaleAuth
            }
          }
        ]
      }
      volumes: [
        blobsVolume
      ]
    }
  }
}

// ------------------------------------------------------------------------------------ GPU worker
resource gpuWorkerApp 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-worker-gpu'
  location: location
  properties: {
    managedEnvironmentId: env.id
    workloadProfileName: gpuProfileName
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: secrets
      registries: registries
    }
    template: {
      terminationGracePeriodSeconds: terminationGraceSeconds
      containers: [
        {
          name: 'worker-gpu'
          image: gpuImage
          command: [
            'dramatiq'
          ]
          args: [
            'actors'
            '--processes'
            '1'
            '--threads'
            '16'
            '--queues'
            'gpu-query'
            'gpu'
            '--worker-shutdown-timeout'
            string(workerShutdownTimeoutMs)
          ]
          env: concat(commonEnv, [
            {
              name: 'REPERTORY_CLIP__PRETRAINED'
              value: '/models/${clipCheckpointFile}'
            }
            {
              name: 'REPERTORY_POOLS__CURRENT'
              value: 'gpu'
            }
          ])
          resources: {
            cpu: json(gpuResources[gpuWorkloadProfileType].cpu)
            memory: gpuResources[gpuWorkloadProfileType].memory
          }
          volumeMounts: [
            blobsMount
            {
              volumeName: 'models'
              mountPath: '/models'
            }
          ]
        }
      ]
      // Scale to zero: a GPU replica exists only while the gpu queue holds work.
      scale: {
        minReplicas: 0
        maxReplicas: gpuWorkerMaxReplicas
        rules: [
          {
            name: 'queue-gpu'
            custom: {
              type: 'redis'
              metadata: union(redisScaleMetadata, {
                listName: 'dramatiq:gpu'
              })
              auth: redisScaleAuth
            }
          }
          {
            name: 'queue-gpu-delayed'
            custom: {
              type: 'redis'
              metadata: union(delayedScaleMetadata, {
                listName: 'dramatiq:gpu.DQ'
              })
              auth: redisScaleAuth
            }
          }
        ]
      }
      volumes: [
        blobsVolume
        {
          name: 'models'
          storageType: 'AzureFile'
          storageName: modelsStorage.name
          mountOptions: 'uid=${appUid},gid=${appUid},dir_mode=0550,file_mode=0440'
        }
      ]
    }
  }
}

// ------------------------------------------------------------------------------------ scheduler
resource schedulerApp 'Microsoft.App/containerApps@2024-03-01' = {
  name: '${namePrefix}-scheduler'
  location: location
  properties: {
    managedEnvironmentId: env.id
    workloadProfileName: 'Consumption'
    configuration: {
      activeRevisionsMode: 'Single'
      secrets: secrets
      registries: registries
    }
    template: {
      containers: [
        {
          name: 'scheduler'
          image: cpuImage
          command: [
            'repertory'
          ]
          args: [
            'scheduler'
          ]
          env: commonEnv
          resources: {
            cpu: json('0.25')
            memory: '0.5Gi'
          }
        }
      ]
      scale: {
        minReplicas: 1
        maxReplicas: 1
      }
    }
  }
}

output apiUrl string = 'https://${apiApp.properties.configuration.ingress.fqdn}'
output environmentId string = env.id
output cpuWorkerName string = cpuWorkerApp.name
output indexWorkerName string = indexWorkerApp.name
output gpuWorkerName string = gpuWorkerApp.name
output schedulerName string = schedulerApp.name
output storageAccountName string = storage.name
